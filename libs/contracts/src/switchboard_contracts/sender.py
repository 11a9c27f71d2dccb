"""Sender events: `sender.registered`, `sender.connected`, `sender.error`, `sender.session_status` (v1),
and the shapes of sender routes (how webhook-ingest finds a sender) and provider configuration."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from typing import Annotated

from pydantic import BaseModel, Field

from .envelope import event_type
from .numbers import whole

ENTITY = "sender"
REGISTERED = event_type(ENTITY, "registered")
CONNECTED = event_type(ENTITY, "connected")
DISCONNECTED = event_type(ENTITY, "disconnected")
PAUSED = event_type(ENTITY, "paused")
RESUMED = event_type(ENTITY, "resumed")
ERROR = event_type(ENTITY, "error")
SESSION_STATUS = event_type(ENTITY, "session_status")
UPDATED = event_type(ENTITY, "updated")
REMOVED = event_type(ENTITY, "removed")
CONNECTING = event_type(ENTITY, "connecting")
QR_ISSUED = event_type(ENTITY, "qr_issued")
BANNED = event_type(ENTITY, "banned")

Label = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Provider(StrEnum):
    SIMULATOR = "simulator"
    META_CLOUD = "meta-cloud"
    WAHA = "waha"


class Warmup(BaseModel):
    """A ramp for a new number: `first_day` messages on its first day, multiplied by `growth` each
    day after, until the per-day quota (if any) is reached. Applied by the sender's age."""

    first_day: whole(ge=1)
    growth: float = Field(default=2.0, ge=1.0, le=10.0)


class Quotas(BaseModel):
    """Messages a sender may send per window; None means no limit for that window."""

    per_minute: whole(ge=1) | None = None
    per_hour: whole(ge=1) | None = None
    per_day: whole(ge=1) | None = None
    warmup: Warmup | None = None


class SenderRegistered(BaseModel):
    sender_id: str
    name: str
    provider: Provider
    quotas: Quotas
    phone_number: str | None = None
    registered_at: datetime
    # Non-secret provider identifiers (credentials never appear in an event).
    phone_number_id: str | None = None  # meta-cloud
    waba_id: str | None = None  # meta-cloud
    session: str | None = None  # waha
    labels: list[str] = Field(default_factory=list)


class SenderUpdated(BaseModel):
    """An operator changed a sender's name, quotas or labels (only the fields that changed are set)."""

    sender_id: str
    name: str | None = None
    quotas: Quotas | None = None
    labels: list[str] | None = None
    updated_at: datetime


class SenderRemoved(BaseModel):
    """The sender was removed: it sends nothing more and its provider session is stopped."""

    sender_id: str
    removed_at: datetime


class SenderConnecting(BaseModel):
    """A connection attempt started (attempt 1 is the first; later ones are reconnections)."""

    sender_id: str
    attempt: int
    at: datetime


class SenderQrIssued(BaseModel):
    """A WhatsApp Web session waits for its pairing QR to be scanned. The QR itself is never in an
    event: read it with `GET /v1/senders/{id}/qr`."""

    sender_id: str
    at: datetime


class SenderBanned(BaseModel):
    """The provider reports the number banned: it cannot send until the provider lifts it."""

    sender_id: str
    reason: str
    code: int | str | None = None
    banned_at: datetime


class SenderConnected(BaseModel):
    sender_id: str
    connected_at: datetime
    phone_number: str | None = None  # the number the provider reported, when it reports one


class SenderDisconnected(BaseModel):
    """A sender can no longer send: the provider refused its credentials, or its session dropped."""

    sender_id: str
    reason: str
    code: int | str | None = None  # the provider's error code, when it gave one
    disconnected_at: datetime
    attempt: int = 0  # the connection attempt that failed (0: the sender was connected)
    retry_in_seconds: float | None = None  # when the next attempt is due; None: no more attempts


class SenderPaused(BaseModel):
    """Sending is suspended: by an operator, or automatically (spam signals, failures) with the reason."""

    sender_id: str
    reason: str
    automatic: bool
    code: int | str | None = None
    paused_at: datetime


class SenderResumed(BaseModel):
    sender_id: str
    resumed_at: datetime


class SenderError(BaseModel):
    """A provider reported an error about a sender (e.g. Meta's `value.errors[]`)."""

    sender_id: str
    provider: Provider
    code: int | str
    title: str
    detail: str | None = None
    timestamp: datetime


class SenderSessionStatus(BaseModel):
    """A WhatsApp Web session changed state (WAHA: STARTING, SCAN_QR_CODE, WORKING, FAILED, STOPPED)."""

    sender_id: str
    session: str
    status: str
    me: str | None = None  # the session's own WhatsApp id, once paired
    timestamp: datetime


class SenderRoute(BaseModel):
    """How webhook-ingest finds the sender that owns a webhook (value of the routes KV bucket).
    `sealed` holds the webhook secrets, encrypted with SWITCHBOARD_SECRET_KEY."""

    org_id: str
    sender_id: str
    provider: Provider
    sealed: str | None = None
    waba_id: str | None = None  # meta-cloud: template updates name the account, not the number


def route_key(provider: Provider | str, account: str) -> str:
    """KV key of a route: `meta-cloud.<phone_number_id>` or `waha.<session>` (hex-encoded when the
    identifier has characters a KV key may not hold)."""
    safe = account if account and all(c.isalnum() or c in "-_" for c in account) else "x" + account.encode().hex()
    return f"{Provider(provider).value}.{safe}"
