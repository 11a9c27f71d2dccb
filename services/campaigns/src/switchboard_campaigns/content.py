"""A campaign's message for one contact: its content personalized (text, template parameters, or a
media caption) and its senders (one sender, a list, or a label pool), as `SendMessage` fields. A template
whose definition is known goes as Meta wants it, with the text the customer reads (`rendered`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .domain.personalize import TemplateContent, TemplateError, TextTemplate, known_variables_check
from .domain.template_definition import Definition


class ContentError(ValueError):
    """The campaign's content cannot be personalized (a 422 naming the field)."""

    def __init__(self, reason: str, field: str):
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True)
class CampaignContent:
    type: str
    text: TextTemplate | None
    template: TemplateContent | None
    media: dict[str, Any] | None
    caption: TextTemplate | None
    senders: dict[str, Any]  # SendMessage fields: {"sender_id"} or {"pool": {...}}

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> CampaignContent:
        content, senders = spec["content"], spec["senders"]
        try:
            text = TextTemplate.parse(content["text"]) if content.get("text") is not None else None
            template = TemplateContent.parse(content["template"]) if content.get("template") else None
            media = content.get("media")
            caption = TextTemplate.parse(media["caption"]) if media and media.get("caption") else None
        except TemplateError as exc:
            raise ContentError(str(exc), _field(content)) from exc
        used = set().union(*(t.variables for t in (text, template, caption) if t is not None))
        try:
            known_variables_check(used, spec.get("variables"))
        except TemplateError as exc:
            raise ContentError(str(exc), _field(content)) from exc
        ids = senders.get("sender_ids")
        if ids and len(ids) == 1:
            fields: dict[str, Any] = {"sender_id": ids[0]}
        else:
            fields = {"pool": {"sender_ids": ids} if ids else {"label": senders["label"]}}
        return cls(content["type"], text, template, media, caption, fields)

    @property
    def required(self) -> set[str]:
        """Variables every contact must have (used without a default)."""
        return set().union(*(t.required for t in (self.text, self.template, self.caption) if t is not None))

    def render(self, phone: str, name: str | None, variables: Mapping[str, str],
               definition: Definition | None = None) -> dict[str, Any]:
        """MissingVariable for a variable the contact lacks; with the template's `definition`, SendMismatch
        when the contact's values do not fill its variables, ValueError for one Meta would refuse."""
        if self.text is not None:
            return {"type": "text", "text": self.text.render(phone, name, variables)}
        if self.template is not None:
            template = self.template.render(phone, name, variables)
            if definition is None:  # not known: as given
                return {"type": "template", "template": template}
            prepared = definition.prepare(template)
            return {"type": "template", "template": prepared.template, "rendered": prepared.rendered}
        media = dict(self.media or {})
        if self.caption is not None:
            media["caption"] = self.caption.render(phone, name, variables)
        return {"type": self.type, "media": media}


def _field(content: Mapping[str, Any]) -> str:
    return "text" if content.get("text") is not None else "template" if content.get("template") else "media"
