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
# Meta senders: the WhatsApp Business Management API through the sender's own credentials
TEMPLATE_CREATE = rpc_subject(SERVICE, "template_create")
TEMPLATE_LIST = rpc_subject(SERVICE, "template_list")
TEMPLATE_DELETE = rpc_subject(SERVICE, "template_delete")
TEMPLATE_EDIT = rpc_subject(SERVICE, "template_edit")  # `POST /{hsm_id}` with the new components/category
QUEUE_GROUP = "session-pool"


class SenderRequest(BaseModel):
    org_id: str
    sender_id: str
    phone_number: str | None = None  # pairing_code: the number that will link the session
    # template_create: the body of `POST /{waba_id}/message_templates`; template_delete: `{"name", "hsm_id"?}`;
    # template_edit: `{"hsm_id", "components"?, "category"?}`
    body: dict[str, Any] | None = None


class SenderReply(BaseModel):
    """`ok` with `data`, or an error the gateway turns into an HTTP answer (`status`, `code`, `message`)."""

    ok: bool
    data: dict[str, Any] = Field(default_factory=dict)
    status: int = 200
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)  # a Graph API error: code, error_subcode, message...


def failure(status: int, code: str, message: str) -> SenderReply:
    return SenderReply(ok=False, status=status, code=code, message=message)
