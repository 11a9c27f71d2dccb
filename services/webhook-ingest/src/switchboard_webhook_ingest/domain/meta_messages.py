"""Meta inbound messages of every type → the text, media reference and content of `message.received`."""

from __future__ import annotations

from typing import Any

from switchboard_contracts.message import MediaRef

from .meta_delivery import InboundMessage

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")


def _body(msg: InboundMessage) -> dict[str, Any] | None:
    body = (msg.model_extra or {}).get(msg.type)
    return body if isinstance(body, dict) else None


def media_of(msg: InboundMessage) -> MediaRef | None:
    """A reference to the media (id, mime type, sha256): the bytes are fetched elsewhere, if ever."""
    if msg.type not in MEDIA_TYPES or (body := _body(msg)) is None:
        return None
    return MediaRef(id=body.get("id"), mime_type=body.get("mime_type"), sha256=body.get("sha256"),
                    filename=body.get("filename"), caption=body.get("caption"), url=body.get("url"))


def text_of(msg: InboundMessage) -> str | None:
    """The human-readable text of the message, where it has one."""
    body = _body(msg) or {}
    match msg.type:
        case "text" | "system":
            return body.get("body")
        case "image" | "video" | "document":
            return body.get("caption")
        case "interactive":
            reply = body.get(body.get("type") or "") or {}
            return reply.get("title") if isinstance(reply, dict) else None
        case "button" | "order":
            return body.get("text")
        case "reaction":
            return body.get("emoji")
        case "location":
            return ", ".join(p for p in (body.get("name"), body.get("address")) if p) or None
    return None


def content_of(msg: InboundMessage) -> dict[str, Any] | None:
    """The type-specific body as Meta sent it (contacts arrive as a list; unsupported as errors)."""
    extra = msg.model_extra or {}
    if msg.type == "unsupported":
        return {"unsupported": extra.get("unsupported"),
                "errors": [e.model_dump() for e in msg.errors or []]}
    body = extra.get(msg.type)
    if body is None:
        return None
    return body if isinstance(body, dict) else {msg.type: body}
