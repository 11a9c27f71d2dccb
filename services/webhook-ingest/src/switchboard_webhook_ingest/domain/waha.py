"""A WAHA webhook envelope → facts: `message` → message.received, `message.ack` → message.status,
`session.status` → sender.session_status; other events carry nothing we publish. A message is one fact
per message id, an ack one per (message id, ack) — so a retried envelope (same WAHA event id) and the
same ack under a new event id are both repeats; a session status is one fact per WAHA event id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchboard_contracts import message, sender
from switchboard_contracts.ids import deterministic_id

from .facts import Fact, NotADelivery, fact
from .meta import SenderRef

ACK_STATUS = {-1: "failed", 1: "sent", 2: "delivered", 3: "read", 4: "played"}  # 0 (pending): nothing


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    timestamp: int | None = None  # milliseconds
    event: str = Field(min_length=1)
    session: str = Field(min_length=1)
    me: dict[str, Any] | None = None
    payload: dict[str, Any]
    engine: str | None = None
    environment: dict[str, Any] | None = None


def phone_of(jid: str | None) -> str:
    """`16505551234@c.us` → `+16505551234`; other ids (groups, lids) stay as they are."""
    if not jid:
        return ""
    user, _, server = jid.partition("@")
    return f"+{user}" if server in ("c.us", "s.whatsapp.net") and user.isdigit() else jid


def _at(seconds: Any, fallback_ms: int | None) -> datetime:
    try:
        return datetime.fromtimestamp(int(seconds), UTC)
    except (TypeError, ValueError, OverflowError):
        if fallback_ms:
            return datetime.fromtimestamp(fallback_ms / 1000, UTC)
        raise NotADelivery("the payload has no usable timestamp") from None


def _message_type(payload: dict[str, Any]) -> tuple[str, message.MediaRef | None]:
    media = payload.get("media") if payload.get("hasMedia") else None
    if not isinstance(media, dict):
        return "text", None
    mime = str(media.get("mimetype") or "")
    kind = mime.split("/", 1)[0]
    type_ = {"image": "image", "video": "video", "audio": "audio"}.get(kind, "document")
    if mime == "image/webp":
        type_ = "sticker"
    return type_, message.MediaRef(url=media.get("url"), mime_type=mime or None, filename=media.get("filename"),
                                   caption=payload.get("body") or None)


def _received(ref: SenderRef, env: Envelope) -> list[Fact]:
    p = env.payload
    if p.get("fromMe") or not p.get("id"):
        return []  # our own message echoed back, not an inbound one
    type_, media = _message_type(p)
    reply = p.get("replyTo")
    reply_id = reply.get("id") if isinstance(reply, dict) else reply
    data = message.MessageReceived(
        message_id=deterministic_id("message", ref.sender_id, p["id"]), provider_message_id=p["id"],
        sender_id=ref.sender_id, from_=phone_of(p.get("from")),
        to=phone_of((env.me or {}).get("id") or p.get("to")), timestamp=_at(p.get("timestamp"), env.timestamp),
        type=type_, text=p.get("body") or None, media=media,
        context=message.MessageContext(provider_message_id=reply_id) if reply_id else None,
        contact_name=(p.get("_data") or {}).get("notifyName") if isinstance(p.get("_data"), dict) else None)
    eid = message.received_event_id(ref.sender_id, p["id"])
    return [fact(id=eid, type=message.RECEIVED, orgid=ref.org_id, data=data, subject=data.message_id,
                 time=data.timestamp)]


def _ack(ref: SenderRef, env: Envelope) -> list[Fact]:
    p = env.payload
    try:
        status = ACK_STATUS.get(int(p.get("ack")))
    except (TypeError, ValueError):
        raise NotADelivery(f"message.ack has no numeric ack: {p.get('ack')!r}") from None
    if status is None or not p.get("id"):
        return []  # pending: nothing has happened yet
    error = message.StatusError(code="waha_ack_error", title=str(p.get("ackName") or "ERROR"),
                                detail="WhatsApp reported the message as failed") if status == "failed" else None
    data = message.MessageStatus(
        message_id=None, provider_message_id=p["id"], sender_id=ref.sender_id, recipient=phone_of(p.get("to")),
        status=status, timestamp=_at(p.get("timestamp"), env.timestamp), error=error)
    eid = message.provider_status_event_id(ref.sender_id, p["id"], status)
    return [fact(id=eid, type=message.STATUS, orgid=ref.org_id, data=data, subject=p["id"],
                 time=data.timestamp)]


def _session_status(ref: SenderRef, env: Envelope) -> list[Fact]:
    status = env.payload.get("status")
    if not isinstance(status, str):
        raise NotADelivery("session.status has no status")
    data = sender.SenderSessionStatus(
        sender_id=ref.sender_id, session=env.session, status=status,
        me=phone_of((env.me or {}).get("id")) or None, timestamp=_at(None, env.timestamp))
    eid = deterministic_id("waha-session-status", ref.sender_id, env.id)
    return [fact(id=eid, type=sender.SESSION_STATUS, orgid=ref.org_id, data=data, subject=ref.sender_id,
                 time=data.timestamp)]


HANDLERS = {"message": _received, "message.ack": _ack, "session.status": _session_status}


def normalize(env: Envelope, ref: SenderRef) -> list[Fact]:
    handler = HANDLERS.get(env.event)
    return handler(ref, env) if handler else []
