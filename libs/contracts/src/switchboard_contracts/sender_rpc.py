"""Request/reply with the session-pool about one sender, for answers no read model holds: the live
pairing QR, a pairing code, and the sender's stats (quota windows, health). Not stored in any stream;
the QR and the code are never put in an event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .subjects import rpc_subject

SERVICE = "session-pool"
QR = rpc_subject(SERVICE, "qr")
PAIRING_CODE = rpc_subject(SERVICE, "pairing_code")
STATS = rpc_subject(SERVICE, "stats")
QUEUE_GROUP = "session-pool"


class SenderRequest(BaseModel):
    org_id: str
    sender_id: str
    phone_number: str | None = None  # pairing_code: the number that will link the session


class SenderReply(BaseModel):
    """`ok` with `data`, or an error the gateway turns into an HTTP answer (`status`, `code`, `message`)."""

    ok: bool
    data: dict[str, Any] = Field(default_factory=dict)
    status: int = 200
    code: str | None = None
    message: str | None = None


def failure(status: int, code: str, message: str) -> SenderReply:
    return SenderReply(ok=False, status=status, code=code, message=message)
