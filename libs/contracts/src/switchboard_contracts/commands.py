"""Commands (internal): they travel on `sb.cmd.<orgid>.<entity>.<command>` in the work-queue stream."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .envelope import command_type
from .sender import Provider, Quotas

SEND_MESSAGE = command_type("message", "send")
REGISTER_SENDER = command_type("sender", "register")
SIMULATE_INBOUND = command_type("sender", "simulate_inbound")
PAUSE_SENDER = command_type("sender", "pause")
RESUME_SENDER = command_type("sender", "resume")


class SendMessage(BaseModel):
    message_id: str
    sender_id: str
    to: str
    type: str = "text"
    text: str
    client_ref: str | None = None
    requested_at: datetime
    # A message that cannot go within this long after requested_at fails as `expired` (None: the
    # session-pool's default, 4 hours).
    ttl_seconds: int | None = Field(default=None, ge=1)


class RegisterSender(BaseModel):
    sender_id: str
    name: str
    provider: Provider
    quotas: Quotas = Field(default_factory=Quotas)
    # Non-secret provider settings (phone_number_id, waba_id, api_base_url, api_version; base_url,
    # session) and the secrets sealed by the gateway with SWITCHBOARD_SECRET_KEY (never plain text).
    config: dict[str, str] = Field(default_factory=dict)
    sealed_credentials: str | None = None


class SimulateInbound(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    request_id: str
    sender_id: str
    from_: str = Field(alias="from")
    text: str
    contact_name: str | None = None


class PauseSender(BaseModel):
    sender_id: str
    reason: str = "paused by an operator"


class ResumeSender(BaseModel):
    sender_id: str
