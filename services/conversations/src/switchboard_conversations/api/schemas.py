"""Request bodies of `POST /v1/messages` and `POST /v1/messages/bulk`. Each content kind is its own
model, chosen by `type` (a missing `type` is a text message), so the OpenAPI document says exactly
which fields each type takes; the sender is exactly one of `sender_id`, `sender_ids` or `sender_pool`
(a `oneOf` in the document, checked by `route_of`). Explicit `null`s are refused (`no_nulls`): leave
a field out instead — the document says so too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from switchboard_contracts.content import Interactive, Link, MediaId, Filename, Template
from switchboard_contracts.numbers import whole
from switchboard_contracts.sender import Label

SenderId = Annotated[str, Field(min_length=1, max_length=64)]
Phone = Annotated[str, Field(min_length=1, max_length=32, json_schema_extra={"format": "phone"},
                             examples=["+4915112345678"])]
SENDER_CHOICE = [{"required": ["sender_id"]}, {"required": ["sender_ids"]}, {"required": ["sender_pool"]}]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Source(Strict):
    """Media hosted by Meta (`id`, from the media upload) or by you (`link`, public http(s)): exactly one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [{"required": ["link"]},
                                                                           {"required": ["id"]}]})
    link: Link = None
    id: MediaId = None
    mime_type: Annotated[str, Field(max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$")] = None

    @model_validator(mode="after")
    def _one_source(self):
        given = [n for n in ("link", "id") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("media: give exactly one of `link` or `id`" + (" (got both)" if given else ""))
        return self


class PlainMedia(_Source):
    """Audio or a sticker: no caption."""


class CaptionedMedia(_Source):
    """An image or a video, with an optional caption."""

    caption: Annotated[str, Field(min_length=1, max_length=1024)] = None


class DocumentMedia(CaptionedMedia):
    filename: Filename = None


class _Options(Strict):
    """How long a message may wait, and the message it answers."""

    reply_to: Annotated[str, Field(min_length=1, max_length=512)] = None  # a provider message id (wamid)
    ttl_seconds: whole(ge=1, le=7 * 24 * 3600) = None


class _Senders(Strict):
    """Who sends: exactly one of `sender_id`, `sender_ids` or `sender_pool`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": SENDER_CHOICE})
    sender_id: SenderId = None
    sender_ids: list[SenderId] = Field(default=None, min_length=1, max_length=100,
                                       json_schema_extra={"uniqueItems": True})
    sender_pool: Label = None


class TextBody(_Options):
    type: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=4096)


class TemplateBody(_Options):
    type: Literal["template"]
    template: Template


class CaptionedBody(_Options):
    type: Literal["image", "video"]
    media: CaptionedMedia


class DocumentBody(_Options):
    type: Literal["document"]
    media: DocumentMedia


class PlainMediaBody(_Options):
    type: Literal["audio", "sticker"]
    media: PlainMedia


class InteractiveBody(_Options):
    type: Literal["interactive"]
    interactive: Interactive


class TextContent(TextBody, _Senders): ...
class TemplateContent(TemplateBody, _Senders): ...
class CaptionedContent(CaptionedBody, _Senders): ...
class DocumentContent(DocumentBody, _Senders): ...
class PlainMediaContent(PlainMediaBody, _Senders): ...
class InteractiveContent(InteractiveBody, _Senders): ...


TAGS = frozenset({"text", "template", "captioned", "document", "plain", "interactive"})


def _kind(value: Any) -> str | None:
    kind = value.get("type", "text") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return None  # not one of the types: the discriminator's own error
    return {"image": "captioned", "video": "captioned", "audio": "plain", "sticker": "plain"}.get(kind, kind)


class _Single(Strict):
    to: Phone
    client_ref: Annotated[str, Field(max_length=256)] = None


class TextMessage(TextContent, _Single): ...
class TemplateMessage(TemplateContent, _Single): ...
class CaptionedMessage(CaptionedContent, _Single): ...
class DocumentMessage(DocumentContent, _Single): ...
class PlainMediaMessage(PlainMediaContent, _Single): ...
class InteractiveMessage(InteractiveContent, _Single): ...


SendMessageRequest = Annotated[
    Annotated[TextMessage, Tag("text")] | Annotated[TemplateMessage, Tag("template")]
    | Annotated[CaptionedMessage, Tag("captioned")] | Annotated[DocumentMessage, Tag("document")]
    | Annotated[PlainMediaMessage, Tag("plain")] | Annotated[InteractiveMessage, Tag("interactive")],
    Discriminator(_kind, custom_error_type="invalid_type",
                  custom_error_message="type: one of text, template, image, video, audio, document, "
                                       "sticker, interactive")]


class BulkRecipient(Strict):
    to: Annotated[str, Field(min_length=1, max_length=32)]  # checked one by one: a bad one is rejected alone
    client_ref: Annotated[str, Field(max_length=256)] = None


class _Bulk(Strict):
    recipients: list[BulkRecipient] = Field(min_length=1, max_length=10_000)


class BulkText(TextContent, _Bulk): ...
class BulkTemplate(TemplateContent, _Bulk): ...
class BulkCaptioned(CaptionedContent, _Bulk): ...
class BulkDocument(DocumentContent, _Bulk): ...
class BulkPlainMedia(PlainMediaContent, _Bulk): ...
class BulkInteractive(InteractiveContent, _Bulk): ...


BulkSendRequest = Annotated[
    Annotated[BulkText, Tag("text")] | Annotated[BulkTemplate, Tag("template")]
    | Annotated[BulkCaptioned, Tag("captioned")] | Annotated[BulkDocument, Tag("document")]
    | Annotated[BulkPlainMedia, Tag("plain")] | Annotated[BulkInteractive, Tag("interactive")],
    Discriminator(_kind, custom_error_type="invalid_type",
                  custom_error_message="type: one of text, template, image, video, audio, document, "
                                       "sticker, interactive")]


def nulls_in(value: Any, path: str = "") -> list[str]:
    """The paths of explicit nulls in a JSON body (the API refuses them: leave the field out), and of
    strings holding NUL (which nothing downstream can store)."""
    if value is None or (isinstance(value, str) and "\x00" in value):
        return [path or "body"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in nulls_in(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in nulls_in(v, f"{path}.{i}" if path else str(i))]
    return []


def _reply_kind(value: Any) -> str | None:
    return "canned" if isinstance(value, dict) and "canned" in value else _kind(value)


def reply_request(canned: type) -> Any:
    """A reply's body: any content `POST /v1/messages` takes, without the sender and the number (the
    conversation's), or `{"canned": "<short_code>"}`."""
    return Annotated[
        Annotated[TextBody, Tag("text")] | Annotated[TemplateBody, Tag("template")]
        | Annotated[CaptionedBody, Tag("captioned")] | Annotated[DocumentBody, Tag("document")]
        | Annotated[PlainMediaBody, Tag("plain")] | Annotated[InteractiveBody, Tag("interactive")]
        | Annotated[canned, Tag("canned")],
        Discriminator(_reply_kind, custom_error_type="invalid_type",
                      custom_error_message="type: one of text, template, image, video, audio, document, "
                                           "sticker, interactive; or canned")]
