"""Webhook payload builders for tests: Meta WhatsApp Cloud API and WAHA.

Shapes follow Meta's "messages webhook reference" (incoming messages, status,
unsupported pages on developers.facebook.com) and WAHA's "Webhooks / Events"
docs (waha.devlike.pro). Pure functions, standard library only, no I/O.
Meta sends timestamps as strings of Unix seconds; WAHA sends integers.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

BUSINESS_NUMBER = "15550001111"
WAHA_ME = {"id": f"{BUSINESS_NUMBER}@c.us", "pushName": "Webhook Test"}

META_MESSAGE_TYPES: tuple[str, ...] = (
    "text", "image", "audio", "video", "document", "sticker", "location", "contacts",
    "interactive_button_reply", "interactive_list_reply", "button", "reaction", "order",
    "system", "unsupported",
)
META_STATUSES: tuple[str, ...] = ("sent", "delivered", "read", "failed", "played")
WAHA_ACK_NAMES: dict[int, str] = {-1: "ERROR", 0: "PENDING", 1: "SERVER", 2: "DEVICE", 3: "READ", 4: "PLAYED"}

_MEDIA: dict[str, dict[str, Any]] = {
    "image": {"mime_type": "image/jpeg"},
    "audio": {"mime_type": "audio/ogg; codecs=opus", "voice": True},
    "video": {"mime_type": "video/mp4"},
    "document": {"mime_type": "application/pdf", "filename": "invoice.pdf"},
    "sticker": {"mime_type": "image/webp", "animated": False},
}


def _digest(seed: str, n: int = 16) -> str:
    """Deterministic hex string derived from `seed`."""
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _bsuid(wa_id: str) -> str:
    """Deterministic business-scoped user id ("US.<16 digits>") for a wa_id."""
    return f"US.{int(_digest(wa_id, 13), 16):016d}"


def meta_message(type_: str, *, wamid: str, from_: str = "16505551234", timestamp: int = 1_764_000_000,
                 text: str = "hello", context_wamid: str | None = None) -> dict:
    """One element of value.messages[] of the given type, as Meta sends it."""
    if type_ not in META_MESSAGE_TYPES:
        raise ValueError(f"unknown Meta message type: {type_!r}")
    wire_type = "interactive" if type_.startswith("interactive_") else type_
    msg: dict[str, Any] = {"from": from_, "id": wamid, "timestamp": str(timestamp), "type": wire_type}
    if type_ == "button" and context_wamid is None:
        context_wamid = f"wamid.{_digest('ctx' + wamid, 24).upper()}"
    if context_wamid is not None:
        msg["context"] = {"from": BUSINESS_NUMBER, "id": context_wamid}
    if type_ == "text":
        msg["text"] = {"body": text}
    elif type_ in _MEDIA:
        media: dict[str, Any] = {"id": str(int(_digest(wamid + type_, 12), 16)),
                                 "mime_type": _MEDIA[type_]["mime_type"],
                                 "sha256": _digest(wamid + type_, 64)}
        if type_ in ("image", "video", "document"):
            media["caption"] = text
        media.update({k: v for k, v in _MEDIA[type_].items() if k != "mime_type"})
        msg[type_] = media
    elif type_ == "location":
        msg["location"] = {"latitude": 37.483307, "longitude": -122.148981,
                           "name": "Main Office", "address": "1 Hacker Way, Menlo Park, CA 94025"}
    elif type_ == "contacts":
        msg["contacts"] = [{"name": {"formatted_name": "Barbara Johnson", "first_name": "Barbara"},
                            "phones": [{"phone": "+1 (940) 555-1234", "wa_id": "19405551234", "type": "CELL"}]}]
    elif type_ == "interactive_button_reply":
        msg["interactive"] = {"type": "button_reply", "button_reply": {"id": "btn_yes", "title": text}}
    elif type_ == "interactive_list_reply":
        msg["interactive"] = {"type": "list_reply", "list_reply": {
            "id": "row_1", "title": text, "description": "First option"}}
    elif type_ == "button":
        msg["button"] = {"payload": "CONFIRM_PAYLOAD", "text": text}
    elif type_ == "reaction":
        target = context_wamid or f"wamid.{_digest('react' + wamid, 24).upper()}"
        msg["reaction"] = {"message_id": target, "emoji": "\U0001F44D"}
    elif type_ == "order":
        msg["order"] = {"catalog_id": "194836987003835", "text": text, "product_items": [
            {"product_retailer_id": "SKU-001", "quantity": 2, "item_price": 12.5, "currency": "USD"}]}
    elif type_ == "system":
        msg["system"] = {"body": f"User {from_} changed from {from_} to 16505559999",
                         "new_wa_id": "16505559999", "type": "user_changed_number"}
    else:  # unsupported
        msg["errors"] = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                          "error_data": {"details": "Message type is currently not supported."}}]
        msg["unsupported"] = {"type": "edit"}
    return msg


def meta_value_error(code: int = 131000, title: str = "Something went wrong") -> dict:
    """One element of value.errors[] (code, title, message, error_data.details)."""
    return {"code": code, "title": title, "message": title,
            "error_data": {"details": f"{title} (error {code})"}}


def meta_status(status: str, *, wamid: str, recipient: str = "16505551234", timestamp: int = 1_764_000_100,
                callback: str | None = None, errors: list[dict] | None = None) -> dict:
    """One element of value.statuses[] (sent|delivered|read|failed|played).

    'sent'/'delivered' carry `conversation` and `pricing` (expiration only on 'sent');
    `callback` becomes biz_opaque_callback_data; 'failed' defaults to a 131026 error.
    """
    if status not in META_STATUSES:
        raise ValueError(f"unknown Meta status: {status!r}")
    st: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": recipient}
    if callback is not None:
        st["biz_opaque_callback_data"] = callback
    if status in ("sent", "delivered"):
        conversation: dict[str, Any] = {"id": _digest("conv" + recipient, 32)}
        if status == "sent":
            conversation["expiration_timestamp"] = str(timestamp + 86_400)
        conversation["origin"] = {"type": "marketing"}
        st["conversation"] = conversation
        st["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"}
    if status == "failed" and errors is None:
        errors = [{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                   "error_data": {"details": "Message could not be delivered to the recipient."}}]
    if errors:
        st["errors"] = copy.deepcopy(errors)
    return st


def meta_change(phone_number_id: str, *, messages: Sequence[dict] = (), statuses: Sequence[dict] = (),
                errors: list[dict] | None = None, display_phone_number: str = BUSINESS_NUMBER,
                contact_name: str = "Ana", with_bsuid: bool = False) -> dict:
    """One element of entry[].changes[]: {"field": "messages", "value": {...}}.

    `contacts` has one entry per distinct messages[].from; with_bsuid adds user_id /
    from_user_id / recipient_user_id. messages/statuses/errors only when non-empty.
    """
    msgs = [copy.deepcopy(m) for m in messages]
    sts = [copy.deepcopy(s) for s in statuses]
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": display_phone_number,
                                          "phone_number_id": phone_number_id}}
    senders = list(dict.fromkeys(m["from"] for m in msgs if "from" in m))
    if senders:
        contacts = []
        for wa_id in senders:
            contact: dict[str, Any] = {"profile": {"name": contact_name}, "wa_id": wa_id}
            if with_bsuid:
                contact["user_id"] = _bsuid(wa_id)
            contacts.append(contact)
        value["contacts"] = contacts
    if with_bsuid:
        for m in msgs:
            if "from" in m:
                m["from_user_id"] = _bsuid(m["from"])
        for s in sts:
            if "recipient_id" in s:
                s["recipient_user_id"] = _bsuid(s["recipient_id"])
    if msgs:
        value["messages"] = msgs
    if sts:
        value["statuses"] = sts
    if errors:
        value["errors"] = copy.deepcopy(errors)
    return {"field": "messages", "value": value}


def meta_delivery(*entries: tuple[str, list[dict]] | tuple[str, list[dict], int]) -> dict:
    """Full Meta POST body built from (waba_id, changes) pairs, or (waba_id, changes, time) triples
    (template updates' entries carry `time`, unix seconds as a number)."""
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba_id, **({"time": time[0]} if time else {}), "changes": list(changes)}
                      for waba_id, changes, *time in entries]}


def meta_template_status(event: str = "APPROVED", *, template_id: int = 123456, name: str = "order_shipped",
                         language: str = "en_US", reason: str | None = "NONE", category: str | None = None,
                         other_info: dict | None = None, disable_date: str | None = None) -> dict:
    """A `message_template_status_update` change (Meta sends the template id as a number)."""
    value: dict[str, Any] = {"event": event, "message_template_id": template_id, "message_template_name": name,
                             "message_template_language": language, "reason": reason}
    if category is not None:
        value["message_template_category"] = category
    if other_info is not None:
        value["other_info"] = copy.deepcopy(other_info)
    if disable_date is not None:
        value["disable_info"] = {"disable_date": disable_date}
    return {"field": "message_template_status_update", "value": value}


def meta_template_quality(new: str = "YELLOW", previous: str = "GREEN", *, template_id: int = 123456,
                          name: str = "order_shipped", language: str = "en_US") -> dict:
    """A `message_template_quality_update` change."""
    return {"field": "message_template_quality_update", "value": {
        "previous_quality_score": previous, "new_quality_score": new, "message_template_id": template_id,
        "message_template_name": name, "message_template_language": language}}


def meta_template_category(new: str = "MARKETING", previous: str | None = "UTILITY", *,
                           correct: str | None = None, template_id: int = 123456, name: str = "order_shipped",
                           language: str = "en_US") -> dict:
    """A `template_category_update` change (`previous_category` and `correct_category` optional)."""
    value: dict[str, Any] = {"message_template_id": template_id, "message_template_name": name,
                             "message_template_language": language, "new_category": new}
    if previous is not None:
        value["previous_category"] = previous
    if correct is not None:
        value["correct_category"] = correct
    return {"field": "template_category_update", "value": value}


def waha_envelope(event: str, payload: dict, *, session: str = "default",
                  event_id: str = "evt_01aaaaaaaaaaaaaaaaaaaaaaaa", timestamp_ms: int = 1_764_000_000_000) -> dict:
    """WAHA webhook envelope around an event payload."""
    return {"id": event_id, "timestamp": timestamp_ms, "event": event, "session": session,
            "me": dict(WAHA_ME), "payload": payload, "engine": "WEBJS",
            "environment": {"version": "2025.11.1", "engine": "WEBJS", "tier": "CORE",
                            "browser": "/usr/bin/google-chrome-stable"}}


def _serialized(from_me: bool, chat: str, message_id: str) -> str:
    """WAHA/WEBJS serialized id "<fromMe>_<chat>_<hex>" unless already serialized."""
    if message_id.startswith(("true_", "false_")):
        return message_id
    return f"{'true' if from_me else 'false'}_{chat}_{message_id}"


def waha_message(*, message_id: str, from_: str = "16505551234@c.us", body: str = "hi",
                 timestamp: int = 1_764_000_000, has_media: bool = False, reply_to: str | None = None) -> dict:
    """Payload of a WAHA `message` event (inbound, fromMe False)."""
    msg: dict[str, Any] = {"id": _serialized(False, from_, message_id), "timestamp": timestamp,
                           "from": from_, "fromMe": False, "source": "app", "to": WAHA_ME["id"],
                           "body": body, "hasMedia": has_media}
    if has_media:
        hex_id = message_id.rsplit("_", 1)[-1]
        msg["media"] = {"url": f"http://localhost:3000/api/files/default/{hex_id}.jpeg",
                        "mimetype": "image/jpeg", "filename": f"{hex_id}.jpeg"}
    msg["ack"], msg["ackName"] = 1, WAHA_ACK_NAMES[1]
    if reply_to is not None:
        msg["replyTo"] = {"id": reply_to, "participant": WAHA_ME["id"], "body": "previous message"}
    msg["_data"] = {}
    return msg


def waha_ack(*, message_id: str, ack: int, to: str = "16505551234@c.us") -> dict:
    """Payload of a WAHA `message.ack` event for a message we sent (fromMe True)."""
    if ack not in WAHA_ACK_NAMES:
        raise ValueError(f"unknown WAHA ack: {ack!r}")
    return {"id": _serialized(True, to, message_id), "from": WAHA_ME["id"], "to": to,
            "participant": None, "fromMe": True, "ack": ack, "ackName": WAHA_ACK_NAMES[ack], "_data": {}}


def waha_session_status(status: str = "WORKING") -> dict:
    """Payload of a WAHA `session.status` event."""
    return {"name": "default", "status": status}


if __name__ == "__main__":
    import json

    msgs = [meta_message(t, wamid=f"wamid.TEST{i:04d}", context_wamid="wamid.CTX" if t == "text" else None)
            for i, t in enumerate(META_MESSAGE_TYPES)]
    sts = [meta_status(s, wamid="wamid.OUT0001", callback="cb-1") for s in META_STATUSES]
    body = meta_delivery(("102290129340398", [meta_change("106540352242922", messages=msgs, statuses=sts,
                                                          errors=[meta_value_error()], with_bsuid=True)]))
    assert [m["type"] for m in body["entry"][0]["changes"][0]["value"]["messages"]].count("interactive") == 2
    waha = [waha_envelope("message", waha_message(message_id="3EB0AAAA", has_media=True, reply_to="3EB0BBBB")),
            waha_envelope("message.ack", waha_ack(message_id="3EB0CCCC", ack=3)),
            waha_envelope("session.status", waha_session_status())]
    print(json.dumps({"meta": body, "waha": waha}, indent=2, ensure_ascii=False))
