"""The WAHA request of a message (pure: no I/O): `sendText`, or `sendImage|sendVideo|sendVoice|sendFile`
with the media's link; what WhatsApp Web cannot send (templates, interactive messages, media by id) is
refused with the reason."""

from __future__ import annotations

import mimetypes
from urllib.parse import urlsplit

from switchboard_contracts.message import StatusError

from ..domain.outbound import OutboundMessage

MEDIA_ENDPOINTS = {"image": "sendImage", "video": "sendVideo", "audio": "sendVoice", "document": "sendFile"}
DEFAULT_MIME = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/ogg; codecs=opus",
                "document": "application/octet-stream"}
NOT_ON_WHATSAPP_WEB = {
    "template": "WhatsApp Web (WAHA) has no message templates: send text or media, or use a Meta Cloud API sender.",
    "interactive": "WhatsApp Web (WAHA) has no interactive (button or list) messages: send text, or use a "
                   "Meta Cloud API sender.",
    "sticker": "This WhatsApp Web (WAHA) sender does not send stickers.",
}


class Refused(Exception):
    """A message this provider cannot send at all."""

    def __init__(self, code: str, title: str, detail: str):
        super().__init__(title)
        self.error = StatusError(code=code, title=title, detail=detail)


def chat_id(to: str) -> str:
    """E.164 `+15551234567` → WAHA's chat id `15551234567@c.us` (chat ids pass through)."""
    if "@" in to:
        return to
    digits = "".join(c for c in to if c.isdigit())
    if not digits:
        raise Refused("invalid_recipient", "Invalid recipient", f"{to!r} is not a phone number")
    return f"{digits}@c.us"


def request_for(m: OutboundMessage, session: str) -> tuple[str, dict]:
    """(WAHA endpoint, JSON body) for a message, or Refused."""
    kind = getattr(m, "type", "text") or "text"
    body: dict = {"session": session, "chatId": chat_id(m.to)}
    if kind == "text":
        endpoint = "sendText"
        body["text"] = m.text
    elif kind in MEDIA_ENDPOINTS:
        endpoint = MEDIA_ENDPOINTS[kind]
        media = getattr(m, "media", None) or {}
        link = media.get("link")
        if not link:
            if media.get("id"):
                raise Refused("unsupported_by_provider", f"{kind.capitalize()} by media id is not supported",
                              "WhatsApp Web (WAHA) sends media from a link; a Cloud API media id cannot be "
                              "used. Give `media.link`.")
            raise Refused("invalid_content", "Message content cannot be sent", f"the {kind} has no `media.link`")
        mimetype = media.get("mime_type") or mimetypes.guess_type(urlsplit(link).path)[0] or DEFAULT_MIME[kind]
        file = {"url": link, "mimetype": mimetype}
        filename = media.get("filename") or urlsplit(link).path.rsplit("/", 1)[-1]
        if filename:
            file["filename"] = filename
        body["file"] = file
        if media.get("caption") and kind != "audio":
            body["caption"] = media["caption"]
        if kind == "audio":  # a voice note must be Opus in OGG: WAHA converts anything else
            body["convert"] = not mimetype.startswith("audio/ogg")
        elif kind == "video":
            body["convert"] = mimetype != "video/mp4"
    else:
        raise Refused("unsupported_by_provider", f"{kind.capitalize()} messages are not supported by this sender",
                      NOT_ON_WHATSAPP_WEB.get(kind, f"WhatsApp Web (WAHA) senders cannot send {kind} messages."))
    if reply_to := getattr(m, "reply_to", None):
        body["reply_to"] = reply_to
    return endpoint, body

