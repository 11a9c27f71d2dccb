"""Gateway settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import NoDecode

from switchboard_runtime.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    max_body_bytes: int = 1_048_576
    required_services: Annotated[list[str], NoDecode] = ["gateway", "session-pool", "conversations",
                                                         "webhook-ingest", "campaigns", "flows", "webhooks"]
    default_region: str | None = None
    command_wait_seconds: float = 10.0
    campaigns_url: str = "http://127.0.0.1:8082"  # the campaigns service's API (forwarded to)
    conversations_url: str = "http://127.0.0.1:8083"  # the conversations service's API (forwarded to)
    flows_url: str = "http://127.0.0.1:8084"  # the flows service's API (forwarded to)
    webhooks_url: str = "http://127.0.0.1:8085"  # the webhooks service's API (forwarded to)
    forward_timeout_seconds: float = 30.0  # a forwarded request not answered within this is a 503
    stream_heartbeat_seconds: float = 15.0  # GET /v1/stream: a keep-alive comment after this long without a send
    stream_client_queue: int = 1000  # events an SSE client may fall behind before it reads from the stream

    @field_validator("required_services", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [v.strip() for v in value.split(",") if v.strip()]
        return value
