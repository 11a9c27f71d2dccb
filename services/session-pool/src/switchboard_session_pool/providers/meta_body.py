"""The Graph API body of a message (`POST /{phone-number-id}/messages`): Meta's shape for each type,
`context.message_id` for a reply, and our message id as `biz_opaque_callback_data` (it comes back on
every status webhook). Pure: no I/O."""

from __future__ import annotations

from typing import Any

from ..domain.outbound import OutboundMessage

MEDIA_KEYS = ("id", "link", "caption", "filename")  # what Meta takes of a media object (not mime_type)


def graph_body(m: OutboundMessage) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                            "to": m.to.lstrip("+"), "type": m.type, m.type: _content(m)}
    if m.reply_to:
        body["context"] = {"message_id": m.reply_to}
    body["biz_opaque_callback_data"] = m.message_id
    return body


def _content(m: OutboundMessage) -> dict[str, Any]:
    if m.type == "text":
        return {"body": m.text}
    if m.type == "template":
        return _template(_required(m, m.template))
    if m.type == "interactive":
        return _required(m, m.interactive)  # already in Meta's shape (content.Interactive)
    media = _required(m, m.media)
    return {k: media[k] for k in MEDIA_KEYS if k in media}


def _template(t: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t["name"], "language": {"policy": "deterministic", "code": t["language"]}}
    if t.get("components"):
        out["components"] = t["components"]
    return out


def _required(m: OutboundMessage, content: dict[str, Any] | None) -> dict[str, Any]:
    if content is None:  # the command's validation makes this impossible; never send an empty body
        raise ValueError(f"a {m.type} message without its content ({m.message_id})")
    return content
