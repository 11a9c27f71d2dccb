"""A verified Meta delivery → facts: every entry, change, message, status and error."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from switchboard_contracts import message, sender
from switchboard_contracts.ids import deterministic_id

from .facts import Fact, NotADelivery, fact
from .meta_delivery import ChangeValue, Delivery, InboundMessage, StatusUpdate, message_changes
from .meta_messages import content_of, media_of, text_of

STATUSES = {"sent", "delivered", "read", "failed", "played"}


@dataclass(frozen=True)
class SenderRef:
    org_id: str
    sender_id: str


def _at(timestamp: str | int) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise NotADelivery(f"timestamp {timestamp!r} is not unix seconds") from exc


def _e164(number: str | None) -> str:
    if not number:
        return ""
    return number if number.startswith("+") else f"+{number}"


def _recipient(st: StatusUpdate) -> str:
    """A phone number (digits) in E.164; a group id or a BSUID (`US.1349…`) as Meta sent it."""
    rid = st.recipient_id or ""
    if st.recipient_type not in (None, "individual") or not (rid.lstrip("+").isascii() and rid.lstrip("+").isdigit()):
        return rid
    return _e164(rid)


def _our_id(callback: str | None) -> str | None:
    """Our message id, which the session-pool sends as biz_opaque_callback_data."""
    try:
        return str(uuid.UUID(callback)) if callback else None
    except ValueError:
        return None


def _received(ref: SenderRef, value: ChangeValue, msg: InboundMessage) -> Fact:
    names = {c.wa_id: c.profile.get("name") for c in value.contacts}
    context = None
    if msg.context:
        context = message.MessageContext(provider_message_id=msg.context.get("id"),
                                         from_=_e164(msg.context.get("from")) or None)
    data = message.MessageReceived(
        message_id=deterministic_id("message", ref.sender_id, msg.id), provider_message_id=msg.id,
        sender_id=ref.sender_id, from_=_e164(msg.from_), to=_e164(value.metadata.display_phone_number),
        timestamp=_at(msg.timestamp), type=msg.type, text=text_of(msg), media=media_of(msg),
        context=context, contact_name=names.get(msg.from_) or (next(iter(names.values())) if len(names) == 1 else None),
        content=content_of(msg), from_user_id=msg.from_user_id)
    eid = message.received_event_id(ref.sender_id, msg.id)
    return fact(id=eid, type=message.RECEIVED, orgid=ref.org_id, data=data, subject=data.message_id,
                time=data.timestamp)


def _status(ref: SenderRef, st: StatusUpdate) -> Fact:
    error = None
    if st.errors:
        e = st.errors[0]
        error = message.StatusError(code=e.code, title=e.title or "error", detail=e.detail)
    data = message.MessageStatus(
        message_id=_our_id(st.biz_opaque_callback_data), provider_message_id=st.id, sender_id=ref.sender_id,
        recipient=_recipient(st), status=st.status, timestamp=_at(st.timestamp), error=error,
        client_ref=st.biz_opaque_callback_data, conversation=st.conversation, pricing=st.pricing,
        recipient_user_id=st.recipient_user_id)
    eid = message.provider_status_event_id(ref.sender_id, st.id, st.status)
    return fact(id=eid, type=message.STATUS, orgid=ref.org_id, data=data, subject=data.message_id or st.id,
                time=data.timestamp)


def normalize(delivery: Delivery, routes: dict[str, SenderRef], body: bytes,
              received_at: datetime) -> tuple[list[Fact], set[str]]:
    """Facts for the changes of known senders, and the phone_number_ids no sender owns."""
    facts: list[Fact] = []
    unknown: set[str] = set()
    for i, j, value in message_changes(delivery):
        ref = routes.get(value.metadata.phone_number_id)
        if ref is None:
            unknown.add(value.metadata.phone_number_id)
            continue
        facts.extend(_received(ref, value, m) for m in value.messages)
        facts.extend(_status(ref, s) for s in value.statuses if s.status in STATUSES)
        digest = hashlib.sha256(body).hexdigest() if value.errors else ""
        for k, e in enumerate(value.errors):
            # Value-level errors carry no id: the same delivery (a retry) gives the same event id.
            eid = deterministic_id("sender-error", ref.sender_id, digest, i, j, k)
            data = sender.SenderError(sender_id=ref.sender_id, provider=sender.Provider.META_CLOUD,
                                      code=e.code, title=e.title or "error", detail=e.detail,
                                      timestamp=received_at)
            facts.append(fact(id=eid, type=sender.ERROR, orgid=ref.org_id, data=data, subject=ref.sender_id))
    return facts, unknown
