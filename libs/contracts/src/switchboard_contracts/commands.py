"""Commands (internal): they travel on `sb.cmd.<orgid>.<entity>.<command>` in the work-queue stream."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .actor import Actor
from .content import Interactive, Media, MessageType, Template, check_content
from .envelope import command_type
from .sender import Label, Provider, Quotas

SEND_MESSAGE = command_type("message", "send")
REGISTER_SENDER = command_type("sender", "register")
SIMULATE_INBOUND = command_type("sender", "simulate_inbound")
PAUSE_SENDER = command_type("sender", "pause")
RESUME_SENDER = command_type("sender", "resume")
UPDATE_SENDER = command_type("sender", "update")
REMOVE_SENDER = command_type("sender", "remove")
CONNECT_SENDER = command_type("sender", "connect")
SIMULATE_SENDER = command_type("sender", "simulate")
CONNECTION_ATTEMPT = command_type("connection", "attempt")
OUTCOME_TO = r"^[a-z][a-z_]{0,39}\.[a-z][a-z_]{0,39}$"  # a command name: `<entity>.<command>`


class SenderPool(BaseModel):
    """The senders a message may go through: listed ids, or every sender of the organization carrying
    a label (exactly one of the two). The session-pool picks one per message: round-robin among the
    healthy ones with quota left, the same one for a recipient while it stays healthy."""

    sender_ids: list[str] = Field(default_factory=list, max_length=100)
    label: Label | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SenderPool:
        if bool(self.sender_ids) == (self.label is not None):
            raise ValueError("name either sender_ids or a label")
        if len(set(self.sender_ids)) != len(self.sender_ids):
            raise ValueError("sender_ids must not repeat")
        if any(not s for s in self.sender_ids):
            raise ValueError("sender_ids must not be empty strings")
        return self


class SendMessage(BaseModel):
    message_id: str
    sender_id: str | None = None  # one sender, or...
    pool: SenderPool | None = None  # ...a pool the session-pool picks from (exactly one of the two)
    to: str
    type: MessageType = "text"
    # The content: the one field that matches `type` (content.py), the others absent.
    text: str = Field(default="", validate_default=True)
    template: Template | None = Field(default=None, validate_default=True)
    media: Media | None = Field(default=None, validate_default=True)  # image, video, audio, document, sticker
    interactive: Interactive | None = Field(default=None, validate_default=True)
    reply_to: str | None = Field(default=None, min_length=1, max_length=512)  # a provider message id (wamid)
    client_ref: str | None = None
    requested_at: datetime
    # A message that cannot go within this long after requested_at fails as `expired` (None: the
    # session-pool's default, 4 hours).
    ttl_seconds: int | None = Field(default=None, ge=1)
    actor: Actor | None = None  # who asked for it (an inbox reply: the user), when known
    # A template message as the customer reads it (header, body, footer, buttons with the values filled
    # in), set by the service that knows the template: the text the history and message.accepted show.
    rendered: str | None = Field(default=None, max_length=8192)
    # A command (`<entity>.<command>`) the session-pool also sends this message's outcome to, on
    # `sb.cmd.<orgid>.<entity>.<command>`: the very `message.status` it publishes for the outcome
    # (`sent`, `failed` or `expired`; same id and data, type `switchboard.command.<entity>.<command>.v1`).
    # For a service that needs only its own messages' outcomes (flows' message nodes) without
    # consuming every status of every message.
    outcome_to: str | None = Field(default=None, pattern=OUTCOME_TO)

    @field_validator("text", "template", "media", "interactive")
    @classmethod
    def _content_matches_type(cls, value, info: ValidationInfo):
        return check_content(info.field_name, value, info.data.get("type"))

    @model_validator(mode="after")
    def _one_sender_or_pool(self) -> SendMessage:
        if (self.sender_id is None) == (self.pool is None):
            raise ValueError("name exactly one of sender_id and pool")
        return self


class RegisterSender(BaseModel):
    sender_id: str
    name: str
    provider: Provider
    quotas: Quotas = Field(default_factory=Quotas)
    # Non-secret provider settings (phone_number_id, waba_id, api_base_url, api_version; base_url,
    # session) and the secrets sealed by the gateway with SWITCHBOARD_SECRET_KEY (never plain text).
    config: dict[str, str] = Field(default_factory=dict)
    sealed_credentials: str | None = None
    labels: list[Label] = Field(default_factory=list, max_length=20)
    actor: Actor | None = None  # who asked for it (a user, an API key), when known


class SimulateInbound(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    request_id: str
    sender_id: str
    from_: str = Field(alias="from")
    text: str
    contact_name: str | None = None
    reply_id: str | None = None  # the contact tapped a reply button with this id (its title is `text`)
    actor: Actor | None = None  # who asked for it (a user, an API key), when known


class PauseSender(BaseModel):
    sender_id: str
    reason: str = "paused by an operator"
    actor: Actor | None = None  # who asked for it (a user, an API key), when known


class ResumeSender(BaseModel):
    sender_id: str
    actor: Actor | None = None  # who asked for it (a user, an API key), when known


class UpdateSender(BaseModel):
    """Change what an operator may change; None leaves a field as it is."""

    sender_id: str
    name: str | None = Field(default=None, min_length=1, max_length=200)
    quotas: Quotas | None = None
    labels: list[Label] | None = Field(default=None, max_length=20)
    actor: Actor | None = None  # who asked for it (a user, an API key), when known


class RemoveSender(BaseModel):
    sender_id: str
    actor: Actor | None = None  # who asked for it (a user, an API key), when known


class ConnectSender(BaseModel):
    """Connect (or reconnect) a sender now: check a Meta number's credentials, start a WAHA session."""

    sender_id: str
    actor: Actor | None = None  # who asked for it (a user, an API key), when known


class SimulateSender(BaseModel):
    """Make a simulator sender misbehave, for tests and demos: answer its next sends with provider
    error codes, go slow, drop its connection, or wait for a (simulated) QR scan."""

    sender_id: str
    error_codes: list[int | str] = Field(default_factory=list, max_length=1000)
    latency_ms: int | None = Field(default=None, ge=0, le=60_000)
    disconnect: bool = False
    refuse_reconnects: int = Field(default=0, ge=0, le=1000)  # connection attempts that fail first
    issue_qr: bool = False
    scan_qr: bool = False
    actor: Actor | None = None  # who asked for it (a user, an API key), when known


class ConnectionAttempt(BaseModel):
    """Internal: try to (re)connect a sender. Redelivered by JetStream with a growing delay until it
    connects or runs out of attempts."""

    sender_id: str
    reason: str
    verify: bool = False  # a connected sender is checked too (on start: restore what was connected)
