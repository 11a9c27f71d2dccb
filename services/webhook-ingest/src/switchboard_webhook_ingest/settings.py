"""webhook-ingest settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from pydantic import SecretStr

from switchboard_runtime.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    ingest_host: str = "127.0.0.1"
    ingest_port: int = 8081
    meta_verify_token: SecretStr = SecretStr("")  # accepted by GET /webhooks/meta besides senders' tokens
    ingest_max_body_bytes: int = 3 * 1024 * 1024
    ingest_publish_timeout_seconds: float = 5.0  # no PubAck within this → 503, the provider retries
