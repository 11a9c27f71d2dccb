"""An auto-reply rule: which inbound messages it answers (its senders, an optional keyword filter,
business hours) and with what (a message as a flow's message node takes, personalized with
`{{contact.name}}`, `{{contact.phone}}` and `{{flow.message}}`), after `delay_ms`, at most once per
contact in `cooldown_seconds` (counted from our last auto-reply to them). Whatever the rules say, a
contact gets at most MAX_PER_HOUR auto-replies an hour in all, so two bots cannot talk forever."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from .business_hours import BusinessHours
from .message_node import MessageContent, message_texts
from .nodes import MessageNode
from .rendering import render_message
from .settings import template_problems
from .triggers import keyword_matches, parse_trigger

MAX_PER_HOUR = 5
NEVER_ANSWERED = ("reaction", "system", "unsupported", "ephemeral", "revoked")  # inbound types not answered
SenderId = str
MESSAGE_PROPERTIES = {  # what the document says of `message` (checked in full as a flow's message node is)
    "type": {"enum": ["text", "template", "image", "video", "audio", "document", "sticker", "interactive"]},
    "text": {"type": "string", "minLength": 1, "maxLength": 4096},
    **{kind: {"type": "object", "description": f"as POST /v1/messages takes `{kind}`"}
       for kind in ("template", "media", "interactive")}}


class KeywordFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keywords: list[str] = Field(min_length=1, max_length=100)
    match: Literal["equals", "contains", "starts_with", "regex"] = "contains"


class AutoReplyRule(BaseModel):
    """An auto-reply rule as the API takes it (every field but `message` has a default)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    active: bool = True
    sender_ids: list[SenderId] = Field(default=None, max_length=100, description="default: all senders")
    reply_from: SenderId = Field(default=None, min_length=1, max_length=64,
                                 description="answer through another sender (default: the one written to)")
    message: dict[str, Any] = Field(description="what POST /v1/messages takes, without `to` and the sender",
                                    json_schema_extra={"additionalProperties": False, "required": ["type"],
                                                       "properties": MESSAGE_PROPERTIES})
    delay_ms: int = Field(default=2000, ge=0, le=3_600_000)
    cooldown_seconds: int = Field(default=86_400, ge=0, le=30 * 86_400)
    business_hours: BusinessHours = None  # optional (left out: at any time), never null
    keywords: KeywordFilter = None  # optional (left out: any message)
    _trigger: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _checked(self) -> AutoReplyRule:
        try:
            MessageContent.model_validate(self.message)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in ("message", *first["loc"]))
            raise ValueError(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
        for where, text in message_texts(self.message):
            problems = template_problems(text, ())
            if problems:
                raise ValueError(f"message.{where}: {problems[0]}")
        if self.keywords is not None:
            trigger, problems = parse_trigger({"type": "keyword", **self.keywords.model_dump()})
            if problems:
                raise ValueError(problems[0].removeprefix("trigger: "))
            self._trigger = trigger
        return self

    def answers(self, sender_id: str, message_type: str, text: str | None, at: datetime) -> bool:
        """Whether this rule answers an inbound message (its limits aside)."""
        if not self.active or message_type in NEVER_ANSWERED:
            return False
        if self.sender_ids and sender_id not in self.sender_ids:
            return False
        if self._trigger is not None and not keyword_matches(self._trigger, text):
            return False
        return self.business_hours is None or self.business_hours.answers_at(at)

    def reply(self, contact: str, contact_name: str | None, text: str | None) -> dict[str, Any]:
        """The content to send, personalized."""
        context = {"contact": {"name": contact_name, "phone": contact},
                   "flow": {"message": text, "reply_id": None, "data": {}, "http": {}}, "vars": {}}
        return render_message(MessageNode(id="auto_reply", message=self.message), context)


def first_answering(rules: list[tuple[str, AutoReplyRule]], sender_id: str, message_type: str, text: str | None,
                    at: datetime) -> tuple[str, AutoReplyRule] | None:
    """The one rule that answers a message: one with a keyword filter before one without (the more
    specific first), then the oldest. One message gets at most one auto-reply."""
    answering = [(i, rule_id, rule) for i, (rule_id, rule) in enumerate(rules)
                 if rule.answers(sender_id, message_type, text, at)]
    answering.sort(key=lambda item: (item[2].keywords is None, item[0]))
    return (answering[0][1], answering[0][2]) if answering else None
