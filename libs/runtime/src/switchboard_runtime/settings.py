"""Settings shared by every service, from `SWITCHBOARD_*` environment variables."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    nats_url: str = "nats://127.0.0.1:4222"
    database_url: SecretStr = SecretStr("postgresql://switchboard:switchboard@127.0.0.1:5433/switchboard")
    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"
    health_port: int = 0  # 0 = no health endpoint (the gateway serves its own)
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    events_max_age_days: int = 365
    events_max_bytes: int = -1
    dead_letters_max_age_days: int = 30
    ingest_dedupe_days: int = 7  # webhook facts are recognised as repeats this long (providers retry ≤ 7 days)
    heartbeat_seconds: float = 5.0
    secret_key: SecretStr = SecretStr("")  # seals provider credentials; `make run` generates one

    def database(self) -> DatabaseUrl:
        return DatabaseUrl.parse(self.database_url.get_secret_value())


class DatabaseUrl:
    """The one PostgreSQL URL, in the forms each driver wants."""

    def __init__(self, host: str, port: int, user: str, password: str, dbname: str):
        self.host, self.port, self.user, self.password, self.dbname = host, port, user, password, dbname

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://"))
        return cls(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres",
                   parts.password or "", parts.path.lstrip("/") or "postgres")

    def sqlalchemy_async(self) -> str:
        from sqlalchemy.engine import URL

        return URL.create("postgresql+asyncpg", self.user, self.password, self.host, self.port,
                          self.dbname).render_as_string(hide_password=False)

    def eventsourcing_env(self, schema: str, pool_size: int = 5) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": schema,
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(pool_size),
            "CREATE_TABLE": "y",
        }
