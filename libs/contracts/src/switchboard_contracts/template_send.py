"""A send by template name, checked against the template's definition (Meta's components, as the
`template.*` events carry them): its variables filled exactly (by Meta's send components, or by the
shorthand `parameters`), turned into the components Meta wants, and the text the customer will read.
Pure, for every service that sends templates (the conversations service; campaigns and flows may too)."""

from __future__ import annotations

from dataclasses import dataclass

from .content import Template, TemplateComponent, TemplateParameter

from .template_slots import Slot, fill, render, shorthand, slots

MEDIA = ("image", "video", "document")


class SendMismatch(ValueError):
    def __init__(self, message: str, missing: list[str] | None = None, extra: list[str] | None = None):
        super().__init__(message)
        self.missing, self.extra = missing or [], extra or []


@dataclass(frozen=True)
class Prepared:
    template: Template  # as the command carries it: Meta's components, no shorthand
    rendered: str


def _value(p: TemplateParameter) -> str:
    if p.text is not None:
        return p.text
    if p.currency is not None:
        return p.currency.fallback_value
    if p.date_time is not None:
        return p.date_time.fallback_value
    media = p.image or p.video or p.document
    if media is not None:
        return media.link or media.id or "media"
    return p.payload or ""


def _given(send: Template) -> tuple[dict[str, str], set[str]]:
    """The values the send's components give, by slot; and which components it gave."""
    values, given = {}, set()
    for c in send.components:
        if c.type == "button":
            if c.sub_type == "url":
                values[f"button.{c.index}"] = _value(c.parameters[0])
                given.add(f"button.{c.index}")
            continue
        given.add(c.type)
        for i, p in enumerate(c.parameters):
            kind = "media" if c.type == "header" and p.type in MEDIA else (p.parameter_name or str(i + 1))
            values[f"header.{kind}" if c.type == "header" else kind] = _value(p)
    return values, given


def _parameter(s: Slot, value: str, named: bool) -> dict:
    if s.media:
        return {"type": s.media, s.media: {"link": value} if value.startswith(("http://", "https://")) else {"id": value}}
    return {"type": "text", "text": value, **({"parameter_name": s.name} if named else {})}


def _components(template_slots: list[Slot], values: dict[str, str], named: bool, given: set[str]) -> list[dict]:
    """Components for the slots the shorthand filled (those the send gave as components stay as given)."""
    out: list[dict] = []
    for part in ("header", "body"):
        mine = [s for s in template_slots if s.component == part and part not in given]
        if mine:
            out.append({"type": part, "parameters": [_parameter(s, values[s.key], named) for s in mine]})
    for s in template_slots:
        if s.component == "button" and s.key not in given:
            out.append({"type": "button", "sub_type": "url", "index": s.index,
                        "parameters": [{"type": "text", "text": values[s.key]}]})
    return out


def prepare(send: Template, components: list[dict], parameter_format: str) -> Prepared:
    """The send checked against the template's `components` (Meta's definition); SendMismatch says why not."""
    template_slots = slots(components)
    values, given = _given(send)
    if send.parameters is not None:
        extra = shorthand(send.parameters, template_slots)
        if twice := sorted(set(extra) & set(values)):
            raise SendMismatch(f"given both in components and in parameters: {', '.join(twice)}", extra=twice)
        shorthand_parts = {("button." + k.split(".")[1]) if k.startswith("button.") else
                           ("header" if k.startswith("header.") else "body") for k in extra}
        if clash := sorted(shorthand_parts & given):
            raise SendMismatch(f"give the {clash[0]}'s values one way: in components or in parameters")
        values.update(extra)
    try:
        fill(template_slots, values)
    except ValueError as exc:
        raise SendMismatch(str(exc), getattr(exc, "missing", []), getattr(exc, "extra", [])) from exc
    built = [*send.components, *(TemplateComponent.model_validate(c) for c in
                                 _components(template_slots, values, parameter_format == "NAMED", given))]
    order = {"header": 0, "body": 1, "button": 2}
    built.sort(key=lambda c: (order[c.type], c.index or 0))
    return Prepared(Template(name=send.name, language=send.language, components=built),
                    render(components, values))
