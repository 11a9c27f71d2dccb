"""Campaigns settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from pydantic import field_validator

from switchboard_runtime.settings import ServiceSettings

from .domain.phones import check_region


class CampaignsSettings(ServiceSettings):
    campaigns_host: str = "127.0.0.1"
    campaigns_port: int = 8082
    campaign_batch_size: int = 500  # contacts taken (and commands published) per transaction
    campaign_inflight: int = 2000  # per campaign: commands waiting in the session-pool at most
    campaign_tick_seconds: float = 0.2  # how often the runner looks at running campaigns (pause takes effect within)
    broadcast_chunk_pause_ms: int = 5000  # a broadcast list's send: pause between chunks of 256
    default_region: str | None = None  # region for contact numbers written without + (e.g. BR)
    optout_keywords: str = ""  # extra opt-out words, comma-separated (STOP, UNSUBSCRIBE, PARAR… are built in)
    optin_keywords: str = ""  # extra opt-in words (START, UNSTOP… are built in)
    optout_reply: str = ""  # answer to an opt-out (empty: none)
    optin_reply: str = ""  # answer to an opt-in (empty: none)

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return check_region(value)
