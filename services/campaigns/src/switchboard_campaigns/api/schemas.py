"""Request bodies of the campaigns API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchboard_contracts.content import Media, Template
from switchboard_contracts.numbers import whole
from switchboard_contracts.sender import Label
from switchboard_runtime.http.paths import UUID_PATTERN, ResourceId  # noqa: F401 (shared by the routes)

from ..domain.schedule import DelayMs, Schedule, TimeZoneName, Window

Id = Annotated[str, Field(min_length=1, max_length=64)]
# campaigns and broadcast lists are named by UUIDs: anything else is a 422, never a database error
UuidCursor = Annotated[str | None, Query(pattern=UUID_PATTERN, description="`next_cursor` of the previous page")]
# a phone number: E.164 (+4915112345678), or national with the service's default region
PHONE = {"format": "phone"}
Variable = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL stores no NUL character in text


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


MEDIA_TYPES = ["image", "video", "audio", "document"]
# What `_one_of_each` enforces, said in JSON Schema (the document promises exactly what is accepted)
ONE_OF_EACH = {"allOf": [
    {"oneOf": [{"required": ["sender_ids"]}, {"required": ["sender_pool"]}]},
    {"oneOf": [{"required": ["text"]}, {"required": ["template"]}, {"required": ["media"]}]},
    {"anyOf": [{"not": {"required": ["media"]}},
               {"required": ["type"], "properties": {"type": {"enum": MEDIA_TYPES}}}]},
]}


class CreateCampaign(Strict):
    """Exactly one of `sender_ids` / `sender_pool` and one of `text` / `template` / `media` (with a media
    `type`). Rules between fields, answered 422 when broken: `window.end` differs from `window.start`,
    `delay_ms.min` ≤ `delay_ms.max`, `schedule.end_at` after `schedule.start_at`, `start_at` not in the past;
    placeholders `{{name}}` / `{{name|default}}` name declared `variables` when any are declared."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ONE_OF_EACH)

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    # one of each group, never null (a null would count as given in the schema's oneOf)
    sender_ids: list[Id] = Field(default=None, min_length=1, max_length=100)
    sender_pool: Label = None
    text: str = Field(default=None, min_length=1, max_length=4096, pattern=NO_NUL)
    template: Template = None
    media: Media = None
    type: Literal["text", "template", "image", "video", "audio", "document"] | None = None
    timezone: TimeZoneName = "UTC"
    window: Window | None = None
    delay_ms: DelayMs | None = None
    schedule: Schedule | None = None
    variables: list[Variable] | None = Field(default=None, max_length=100)  # declared names (optional)

    @model_validator(mode="after")
    def _one_of_each(self) -> CreateCampaign:
        if (self.sender_ids is None) == (self.sender_pool is None):
            raise ValueError("give exactly one of sender_ids or sender_pool")
        contents = [n for n in ("text", "template", "media") if getattr(self, n) is not None]
        if len(contents) != 1:
            raise ValueError("give exactly one of text, template or media")
        if self.media is not None and self.type in (None, "text", "template"):
            raise ValueError("media needs a type: image, video, audio or document")
        return self


class ContactIn(Strict):
    phone: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    variables: dict[Variable, Annotated[str, Field(pattern=NO_NUL)] | int | float] = Field(default_factory=dict,
                                                                                           max_length=100)


class ContactsIn(Strict):
    contacts: list[ContactIn] = Field(min_length=1, max_length=10_000)


class BlockIn(Strict):
    phone: str = Field(min_length=1, max_length=64, json_schema_extra=PHONE)
    reason: str | None = Field(default=None, max_length=500, pattern=NO_NUL)


def spec_of(body: CreateCampaign) -> dict[str, Any]:
    """What the aggregate records (JSON-able)."""
    if body.text is not None:
        content: dict[str, Any] = {"type": "text", "text": body.text}
    elif body.template is not None:
        content = {"type": "template", "template": body.template.model_dump(exclude_none=True)}
    else:
        content = {"type": body.type, "media": body.media.model_dump(exclude_none=True)}
    return {
        "name": body.name, "content": content,
        "senders": {"sender_ids": body.sender_ids} if body.sender_ids else {"label": body.sender_pool},
        "timezone": body.timezone,
        "window": body.window.model_dump(mode="json") if body.window else None,
        "delay_ms": body.delay_ms.model_dump() if body.delay_ms else None,
        "schedule": body.schedule.model_dump(mode="json") if body.schedule else None,
        "variables": body.variables,
    }


class BroadcastListIn(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


class BroadcastSend(CreateCampaign):
    """Send a broadcast list: a campaign over its contacts, in chunks with a pause between."""

    name: str = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    chunk_size: whole(ge=1, le=10_000) = 256
    chunk_pause_ms: whole(ge=0, le=3_600_000) | None = None
