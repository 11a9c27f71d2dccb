"""What an outbound message carries beyond text: a template, media or an interactive message, shaped like
Meta's Cloud API send body (held to its limits); a message's `type` names its one content field; summaries."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator
from .numbers import WholeNumber, whole

MessageType = Literal["text", "template", "image", "video", "audio", "document", "sticker", "interactive"]
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
CAPTIONED = ("image", "video", "document")  # Meta takes no caption for audio or stickers

# White space as both Python's `re` and JSON Schema's (ECMA-262) regular expressions read it, spelled
# out: their `\s` differ (Python's has U+001C-U+001F and U+0085, ECMA's U+FEFF), and a pattern must
# mean the same in the OpenAPI document as in the model. With NUL, which PostgreSQL text cannot hold.
SPACE_OR_NUL = r"\x00\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
Link = Annotated[str, Field(min_length=1, max_length=2048, pattern=rf"^https?://[^{SPACE_OR_NUL}]+$")]
MediaId = Annotated[str, Field(min_length=1, max_length=256)]
Filename = Annotated[str, Field(min_length=1, max_length=240)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _exactly_one(owner: BaseModel, names: tuple[str, ...], what: str) -> None:
    given = [n for n in names if getattr(owner, n) is not None]
    if len(given) != 1:
        raise ValueError(f"{what}: give exactly one of {' or '.join(f'`{n}`' for n in names)}"
                         + (f" (got {', '.join(given)})" if given else ""))


def _one_of_given(*names: str) -> list[dict]:
    """JSON Schema for "exactly one of these is given" (a null counts as not given)."""
    return [{"required": [n], "properties": {n: {"not": {"type": "null"}}}} for n in names]


class MediaSource(Strict):
    """Media hosted by Meta (`id`, from the media upload) or by you (`link`, public http(s))."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": _one_of_given("link", "id")})

    link: Link | None = None
    id: MediaId | None = None
    filename: Filename | None = None  # documents only

    @model_validator(mode="after")
    def _one_source(self):
        _exactly_one(self, ("link", "id"), "media")
        return self


class Media(MediaSource):
    """An image, video, audio, document or sticker message. `caption` only for images, videos and
    documents; `filename` only for documents (checked against the message type)."""

    caption: str | None = Field(default=None, min_length=1, max_length=1024)
    mime_type: str | None = Field(default=None, max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$")  # not sent


# --- templates -----------------------------------------------------------------------------------

class Currency(Strict):
    fallback_value: str = Field(min_length=1, max_length=256)
    code: str = Field(pattern=r"^[A-Z]{3}$")  # ISO 4217
    amount_1000: WholeNumber  # the amount times 1000


class DateTime(Strict):
    fallback_value: str = Field(min_length=1, max_length=256)


ParameterType = Literal["text", "currency", "date_time", "image", "document", "video", "payload"]
HEADER_PARAMS = ("text", "currency", "date_time", "image", "document", "video")
BODY_PARAMS = ("text", "currency", "date_time")


VALUE_FIELDS = ("text", "currency", "date_time", "image", "document", "video", "payload")


def _absent(*names: str) -> dict:
    return {n: {"type": "null"} for n in names}


def _parameter_of(kind: str) -> dict:
    branch: dict = {"properties": {"type": {"const": kind}, kind: {"not": {"type": "null"}},
                                   **_absent(*(f for f in VALUE_FIELDS if f != kind))},
                    "required": ["type", kind]}
    if kind in ("image", "video"):  # `filename` is only for documents
        branch["properties"][kind] = {"not": {"anyOf": [{"type": "null"}, {"required": ["filename"]}]}}
    return branch


class TemplateParameter(Strict):
    """One value for a template variable: the field named by `type` and no other."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [_parameter_of(k) for k in VALUE_FIELDS]})

    type: ParameterType
    parameter_name: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    text: str | None = Field(default=None, min_length=1, max_length=32768)
    currency: Currency | None = None
    date_time: DateTime | None = None
    image: MediaSource | None = None
    document: MediaSource | None = None
    video: MediaSource | None = None
    payload: str | None = Field(default=None, min_length=1, max_length=1000)  # quick-reply buttons

    @model_validator(mode="after")
    def _value_matches_type(self):
        for name in ("text", "currency", "date_time", "image", "document", "video", "payload"):
            value = getattr(self, name)
            if name == self.type and value is None:
                raise ValueError(f"{_a(self.type)} parameter needs `{self.type}`")
            if name != self.type and value is not None:
                raise ValueError(f"{_a(self.type)} parameter takes no `{name}`")
        if self.type in ("image", "video") and getattr(self, self.type).filename is not None:
            raise ValueError("`filename` is only for document parameters")
        return self


def _parameters_of(kinds: tuple[str, ...], **more) -> dict:
    return {"type": "array", "items": {"properties": {"type": {"enum": list(kinds)}}}, **more}


COMPONENT_RULES = [  # which parameters each kind of component takes
    {"properties": {"type": {"const": "header"}, **_absent("sub_type", "index"),
                    "parameters": _parameters_of(HEADER_PARAMS, maxItems=1,
                                                 items={"properties": {"type": {"enum": list(HEADER_PARAMS)},
                                                                       "text": {"maxLength": 60}}})}},
    {"properties": {"type": {"const": "body"}, **_absent("sub_type", "index"),
                    "parameters": _parameters_of(BODY_PARAMS)}},
    *({"properties": {"type": {"const": "button"}, "sub_type": {"const": sub}, "index": {"type": "integer"},
                      "parameters": _parameters_of((kind,), minItems=1, maxItems=1)},
       "required": ["type", "sub_type", "index", "parameters"]}
      for sub, kind in (("quick_reply", "payload"), ("url", "text"))),
]


class TemplateComponent(Strict):
    """Values for a template's header, body or one of its buttons (`sub_type` and `index` 0-9)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": COMPONENT_RULES})

    type: Literal["header", "body", "button"]
    sub_type: Literal["quick_reply", "url"] | None = None
    index: whole(ge=0, le=9) | None = None
    parameters: list[TemplateParameter] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _fits_its_type(self):
        kinds = [p.type for p in self.parameters]
        if self.type == "button":
            if self.sub_type is None or self.index is None:
                raise ValueError("a button component needs `sub_type` and `index`")
            wanted = "payload" if self.sub_type == "quick_reply" else "text"
            if kinds != [wanted]:
                raise ValueError(f"a {self.sub_type} button takes exactly one {wanted} parameter")
            return self
        if self.sub_type is not None or self.index is not None:
            raise ValueError(f"`sub_type` and `index` are only for button components, not {self.type}")
        allowed = HEADER_PARAMS if self.type == "header" else BODY_PARAMS
        if bad := [k for k in kinds if k not in allowed]:
            raise ValueError(f"a {self.type} component takes no {bad[0]} parameter")
        if self.type == "header":
            if len(self.parameters) > 1:
                raise ValueError("a header takes at most one parameter")
            if self.parameters and len(self.parameters[0].text or "") > 60:
                raise ValueError("a header text parameter has at most 60 characters")
        return self


ParameterValue = Annotated[str, Field(min_length=1, max_length=1024)]
ParameterKey = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^(header\.|button\.)?[a-z0-9_]+$")]
ParameterMap = Annotated[dict[ParameterKey, ParameterValue], Field(json_schema_extra={"additionalProperties": False})]


class Template(Strict):
    """An approved message template by name and language, with values for its variables. The only
    kind of message Meta lets a business send outside the 24-hour customer-service window."""

    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", examples=["en_US", "de", "pt_BR"])
    components: list[TemplateComponent] = Field(default_factory=list, max_length=13)
    # The variables' values the short way, for a template Switchboard knows (`/v1/templates`): a list (the body's,
    # in order) or an object keyed by variable (body: `"1"`, `"order_id"`; `"header.1"`, `"header.<name>"`,
    # `"button.<index>"` for a URL button; no other key). Switchboard turns them into `components`.
    parameters: list[ParameterValue] | ParameterMap | None = Field(default=None, max_length=100,
                                                                   json_schema_extra={"maxProperties": 100})

    @model_validator(mode="after")
    def _components_fit_together(self):
        for kind in ("header", "body"):
            if sum(c.type == kind for c in self.components) > 1:
                raise ValueError(f"components: at most one {kind}")
        indexes = [c.index for c in self.components if c.type == "button"]
        if len(indexes) != len(set(indexes)):
            raise ValueError("components: each button index at most once")
        if len(self.components) > 1:  # Meta: 32768 characters for a body alone, else 1024
            for c in self.components:
                if c.type == "body" and any(len(p.text or "") > 1024 for p in c.parameters):
                    raise ValueError("components: body text parameters have at most 1024 characters "
                                     "when the template has other components")
        return self


# --- interactive messages ------------------------------------------------------------------------

HEADER_FIELDS = ("text", "image", "video", "document")


class InteractiveHeader(Strict):
    """Text (at most 60 characters) for any interactive message; image, video or document for reply
    buttons only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"properties": {"type": {"const": k}, k: {"not": {"type": "null"}},
                        **_absent(*(f for f in HEADER_FIELDS if f != k))}, "required": ["type", k]}
        for k in HEADER_FIELDS]})
    type: Literal["text", "image", "video", "document"]
    text: str | None = Field(default=None, min_length=1, max_length=60)
    image: MediaSource | None = None
    video: MediaSource | None = None
    document: MediaSource | None = None

    @model_validator(mode="after")
    def _value_matches_type(self):
        for name in ("text", "image", "video", "document"):
            value = getattr(self, name)
            if name == self.type and value is None:
                raise ValueError(f"{_a(self.type)} header needs `{self.type}`")
            if name != self.type and value is not None:
                raise ValueError(f"{_a(self.type)} header takes no `{name}`")
        return self


class Body(Strict):
    text: str = Field(min_length=1, max_length=4096)


class Footer(Strict):
    text: str = Field(min_length=1, max_length=60)


class Reply(Strict):
    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=20)


class ReplyButton(Strict):
    type: Literal["reply"] = "reply"
    reply: Reply


class Row(Strict):
    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=24)
    description: str | None = Field(default=None, min_length=1, max_length=72)


class Section(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=24)  # required with several sections
    rows: list[Row] = Field(min_length=1, max_length=10)


class Action(Strict):
    """`buttons` (1-3 reply buttons) for a button message; `button` (its label) and `sections` for a
    list message."""

    buttons: list[ReplyButton] | None = Field(default=None, min_length=1, max_length=3)
    button: str | None = Field(default=None, min_length=1, max_length=20)
    sections: list[Section] | None = Field(default=None, min_length=1, max_length=10)


INTERACTIVE_RULES = [  # what each kind's action holds (uniqueness and row counts: checked, not schema)
    {"properties": {"type": {"const": "button"}, "body": {"properties": {"text": {"maxLength": 1024}}},
                    "action": {"required": ["buttons"], "properties": {
                        "buttons": {"type": "array"}, **_absent("button", "sections")}}}},
    {"properties": {"type": {"const": "list"}, "header": {"anyOf": [{"type": "null"}, {
                        "properties": {"type": {"const": "text"}}}]},
                    "action": {"required": ["button", "sections"], "properties": {
                        "button": {"type": "string"}, "sections": {"type": "array"}, **_absent("buttons")}}}},
]


class Interactive(Strict):
    """Reply buttons (`type` button) or a list (`type` list), in Meta's shape."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": INTERACTIVE_RULES})

    type: Literal["button", "list"]
    header: InteractiveHeader | None = None
    body: Body
    footer: Footer | None = None
    action: Action

    @model_validator(mode="after")
    def _action_fits_type(self):
        a = self.action
        if self.type == "button":
            if a.buttons is None or a.button is not None or a.sections is not None:
                raise ValueError("a button message needs `action.buttons` (1-3) and no `button` or `sections`")
            if len(self.body.text) > 1024:
                raise ValueError("body.text: at most 1024 characters for reply buttons")
            _unique([b.reply.id for b in a.buttons], "action.buttons: button ids")
            _unique([b.reply.title for b in a.buttons], "action.buttons: button titles")
        else:
            if a.button is None or a.sections is None or a.buttons is not None:
                raise ValueError("a list message needs `action.button` and `action.sections` and no `buttons`")
            if self.header is not None and self.header.type != "text":
                raise ValueError("header: a list message takes a text header only")
            rows = [r for s in a.sections for r in s.rows]
            if len(rows) > 10:
                raise ValueError(f"action.sections: at most 10 rows in all (got {len(rows)})")
            if len(a.sections) > 1 and any(s.title is None for s in a.sections):
                raise ValueError("action.sections: each section needs a `title` when there are several")
            _unique([r.id for r in rows], "action.sections: row ids")
        return self


def _unique(values: list[str], what: str) -> None:
    if len(values) != len(set(values)):
        raise ValueError(f"{what} must be unique")


# --- a message's type and its content ------------------------------------------------------------

def content_field(type_: str) -> str:
    """The field that holds a message's content for its type."""
    return "media" if type_ in MEDIA_TYPES else type_


def check_content(field: str, value: Any, type_: str | None) -> Any:
    """The rule every send shares (used as a field validator, so an error names the field): the field
    matching `type` is present — `text` non-empty for a text message — and the others absent."""
    if type_ is None:  # `type` itself is invalid: that is reported on its own
        return value
    wanted = content_field(type_)
    if field == "text":
        if wanted == "text" and not value:
            raise ValueError("required for a text message")
        if wanted != "text" and value:
            raise ValueError(f"not allowed for {_a(type_)} message (its content is in `{wanted}`)")
        return value
    if field == wanted and value is None:
        raise ValueError(f"required for {_a(type_)} message")
    if field != wanted and value is not None:
        raise ValueError(f"not allowed for {_a(type_)} message" + ("" if wanted == "text" else
                                                                 f" (its content is in `{wanted}`)"))
    if field == "media" and value is not None:
        if value.caption is not None and type_ not in CAPTIONED:
            raise ValueError(f"{_a(type_)} message takes no caption (only images, videos and documents)")
        if value.filename is not None and type_ != "document":
            raise ValueError("`filename` is only for documents")
    return value


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


class Content(Protocol):
    type: str
    text: str
    template: Template | None
    media: Media | None
    interactive: Interactive | None


def summary(message: Content, limit: int = 200) -> str:
    """A short human-readable line for any message (its text, for a text message): what records and
    previews show for templates, media and interactive messages; a template's whole text where the
    sender's service filled it in (`rendered`)."""
    if message.type == "text":
        return message.text
    if rendered := getattr(message, "rendered", None):  # a template Switchboard knows, filled in: whole
        return rendered
    if message.template is not None:
        t = message.template
        values = [p.text or (p.currency.fallback_value if p.currency else None)
                  or (p.date_time.fallback_value if p.date_time else None)
                  for c in t.components if c.type == "body" for p in c.parameters]
        line = f"[template {t.name} {t.language}]" + (" " + ", ".join(v for v in values if v) if any(values) else "")
    elif message.media is not None:
        m = message.media
        label = f"[{message.type} {m.filename}]" if m.filename else f"[{message.type}]"
        line = label + (f" {m.caption}" if m.caption else "")
    elif message.interactive is not None:
        i = message.interactive
        if i.type == "button":
            options = " / ".join(b.reply.title for b in i.action.buttons or [])
        else:
            options = i.action.button or ""
        line = f"[{'buttons' if i.type == 'button' else 'list'}] {i.body.text} ({options})"
    else:
        line = f"[{message.type}]"
    return line if len(line) <= limit else line[: limit - 1] + "…"
