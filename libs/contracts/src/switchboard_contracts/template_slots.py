"""A template's variables as slots a send must fill, and the text the customer sees once they are.

Slot keys: the body's variables by number or name (`"1"`, `"order_id"`), the header's as
`"header.1"` / `"header.<name>"` (a media header's as `"header.media"`: a link or a media id), a URL
button's as `"button.<index>"`. A send fills them by Meta's
components (`{"type": "body", "parameters": [...]}`) or by the shorthand `parameters` — a list (the
body's, in order) or an object keyed by slot."""

from __future__ import annotations

import re
from dataclasses import dataclass

VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")


def variables(text: str) -> list[str]:
    """The names between `{{` and `}}`, in order (`"1"`, `"order_id"`)."""
    return [m.group(1) for m in VARIABLE.finditer(text or "")]


@dataclass(frozen=True)
class Slot:
    key: str
    component: str  # header, body, button
    name: str  # the variable's number or name
    index: int | None = None  # a button's position
    media: str | None = None  # a media header's kind (image, video, document): its value is a link or a media id


def _component(components: list[dict], kind: str) -> dict | None:
    return next((c for c in components if isinstance(c, dict) and c.get("type") == kind), None)


def buttons(components: list[dict]) -> list[dict]:
    c = _component(components, "BUTTONS")
    return [b for b in (c or {}).get("buttons") or [] if isinstance(b, dict)]


def slots(components: list[dict]) -> list[Slot]:
    out: list[Slot] = []
    header = _component(components, "HEADER")
    if header and header.get("format") == "TEXT":
        out += [Slot(f"header.{n}", "header", n) for n in variables(header.get("text", ""))]
    elif header and header.get("format") in ("IMAGE", "VIDEO", "DOCUMENT"):
        out.append(Slot("header.media", "header", "media", media=header["format"].lower()))
    body = _component(components, "BODY")
    out += [Slot(n, "body", n) for n in variables((body or {}).get("text", ""))]
    for i, b in enumerate(buttons(components)):
        if b.get("type") == "URL" and variables(b.get("url", "")):
            out.append(Slot(f"button.{i}", "button", "1", i))
    return out


class ParameterMismatch(ValueError):
    def __init__(self, missing: list[str], extra: list[str]):
        self.missing, self.extra = missing, extra
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"extra {', '.join(extra)}"] if extra else [])
        super().__init__("the parameters do not match the template's variables: " + "; ".join(parts))


def fill(template_slots: list[Slot], given: dict[str, str]) -> dict[str, str]:
    """`given` checked against the slots: every slot filled, nothing else (ParameterMismatch)."""
    wanted = {s.key for s in template_slots}
    missing = [s.key for s in template_slots if s.key not in given]
    extra = sorted(k for k in given if k not in wanted)
    if missing or extra:
        raise ParameterMismatch(missing, extra)
    return given


def shorthand(parameters: list[str] | dict[str, str], template_slots: list[Slot]) -> dict[str, str]:
    """A list fills the body's variables in order; an object names its slots."""
    if isinstance(parameters, dict):
        return {str(k): str(v) for k, v in parameters.items()}
    body = [s for s in template_slots if s.component == "body"]
    given = {s.key: str(v) for s, v in zip(body, parameters, strict=False)}
    given.update({str(i + 1): str(v) for i, v in enumerate(parameters[len(body):], start=len(body))})
    return given


def render(components: list[dict], values: dict[str, str]) -> str:
    """What the customer reads: header, body and footer text, then the buttons, with values filled in."""
    def put(text: str, prefix: str = "") -> str:
        return VARIABLE.sub(lambda m: values.get(prefix + m.group(1), m.group(0)), text)

    parts: list[str] = []
    header = _component(components, "HEADER")
    if header and header.get("format") == "TEXT":
        parts.append(put(header.get("text", ""), "header."))
    elif header:
        parts.append(f"[{str(header.get('format', 'media')).lower()}]")
    body = _component(components, "BODY")
    if body and body.get("text"):
        parts.append(put(body["text"]))
    footer = _component(components, "FOOTER")
    if footer and footer.get("text"):
        parts.append(footer["text"])
    labels = []
    for i, b in enumerate(buttons(components)):
        label = b.get("text") or b.get("type", "").replace("_", " ").lower()
        if b.get("type") == "URL":
            url = VARIABLE.sub(lambda m, i=i: values.get(f"button.{i}", m.group(0)), b.get("url", ""))
            labels.append(f"[{label}: {url}]")
        elif b.get("type") == "PHONE_NUMBER":
            labels.append(f"[{label}: {b.get('phone_number', '')}]")
        else:
            labels.append(f"[{label}]")
    if labels:
        parts.append("\n".join(labels))
    return "\n\n".join(p for p in parts if p)
