"""The message node: its `message` checked with the platform's own content models (the body of
`POST /v1/messages` without `to` and the sender: `type` and the one content field it names, text at
most 4096 characters), and the templated parts of that content (`MESSAGE_TEXTS`: the text, a media
caption and link, a template's parameter texts and the values of its shorthand `parameters` — a list, or an
object keyed `"1"`, `"order_id"`, `"header.1"`, `"button.0"`: the service fills the template's variables
with them when it sends it by name, `template_check.py` — and an interactive message's header, body and
footer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from switchboard_contracts.content import Interactive, Media, MessageType, Template, check_content
from switchboard_contracts.placeholders import TEMPLATE_PARAMETER_TEXTS

from .nodes import PRESENTATION, MessageNode
from .settings import Settings

MAX_TEXT = 4096
INTERACTIVE_TEXTS = (("header", "text"), ("body", "text"), ("footer", "text"))


class MessageContent(BaseModel):
    """What a message node sends, checked as `SendMessage` checks it (switchboard_contracts.commands)."""

    model_config = ConfigDict(extra="forbid")

    type: MessageType = "text"
    text: str = Field(default="", max_length=MAX_TEXT, validate_default=True)
    template: Template | None = Field(default=None, validate_default=True)
    media: Media | None = Field(default=None, validate_default=True)
    interactive: Interactive | None = Field(default=None, validate_default=True)

    @field_validator("text", "template", "media", "interactive")
    @classmethod
    def _content_matches_type(cls, value, info: ValidationInfo):
        return check_content(info.field_name, value, info.data.get("type"))


def parse_message_node(s: Settings) -> dict[str, Any] | None:
    s.unknown({"id", "type", *PRESENTATION, "message", "sender_id"})
    sender_id = s.text("sender_id", 200, default=None)
    message = s.raw.get("message")
    if not isinstance(message, Mapping):
        s.problem(f"{s.what} needs `message`, an object with a `type` and its content "
                  "(e.g. {\"type\": \"text\", \"text\": \"Hello\"}).")
        return None
    try:
        MessageContent.model_validate(message)
    except ValidationError as error:
        for e in error.errors():
            where = ".".join(str(part) for part in ("message", *e["loc"]))
            s.problem(f"`{where}`: {e['msg'].removeprefix('Value error, ')}.")
    for where, text in message_texts(message):
        s.check_template(text, f"`message.{where}`")
    return {"_class": MessageNode, "message": dict(message), "sender_id": sender_id}


def message_texts(message: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every templated string of a message's content."""
    if isinstance(message.get("text"), str):
        yield "text", message["text"]
    media = message.get("media")
    if isinstance(media, Mapping):
        yield from ((f"media.{k}", media[k]) for k in ("caption", "link") if isinstance(media.get(k), str))
    interactive = message.get("interactive")
    if isinstance(interactive, Mapping):
        for part, key in INTERACTIVE_TEXTS:
            value = interactive.get(part)
            if isinstance(value, Mapping) and isinstance(value.get(key), str):
                yield f"interactive.{part}.{key}", value[key]
    template = message.get("template")
    parameters = template.get("parameters") if isinstance(template, Mapping) else None
    if isinstance(parameters, list):
        yield from ((f"template.parameters[{i}]", v) for i, v in enumerate(parameters) if isinstance(v, str))
    elif isinstance(parameters, Mapping):
        yield from ((f"template.parameters.{k}", v) for k, v in parameters.items() if isinstance(v, str))
    components = template.get("components") if isinstance(template, Mapping) else None
    for ci, component in enumerate(components if isinstance(components, list) else ()):
        parameters = component.get("parameters") if isinstance(component, Mapping) else None
        for pi, parameter in enumerate(parameters if isinstance(parameters, list) else ()):
            if not isinstance(parameter, Mapping):
                continue
            for field, sub in TEMPLATE_PARAMETER_TEXTS:
                value = parameter.get(field)
                if sub is not None:
                    value = value.get(sub) if isinstance(value, Mapping) else None
                if isinstance(value, str):
                    where = f"template.components[{ci}].parameters[{pi}].{field}" + (f".{sub}" if sub else "")
                    yield where, value
