"""The placeholder syntax of the public API, shared by every service that personalizes text:
`{{key}}` and `{{key|default}}` in free text (`Placeholders`) and in the text-bearing values of a
Meta template's parameters (`TemplateParameters`), compiled once and rendered through a lookup
function (key → value, or None when there is none).

Whitespace inside the braces is ignored; a default runs to the first `}}` on the same line, is
stripped, may be empty and may not contain `{{`. Two key syntaxes, chosen when parsing:

- plain (campaigns): letters, digits and `_`, lower-cased (`{{Plan}}` reads `plan`);
- dotted (flows): segments of letters, digits, `_` and `-` joined by dots (`{{contact.name}}`,
  `{{flow.http.lookup.json.items.0.id}}`), case-sensitive (JSON keys are).

A missing or blank value takes the default; one without a default raises `MissingVariable`, or
renders as an empty string when rendering with `strict=False`."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Lookup = Callable[[str], Any]
_DEFAULT = r"(?:\|((?:(?!\}\}|\{\{)[^\n])*))?\}\}"
_PLAIN = re.compile(r"\{\{\s*(\w+)\s*" + _DEFAULT)
_DOTTED = re.compile(r"\{\{\s*([\w-]+(?:\.[\w-]+)*)\s*" + _DEFAULT)
# The text-bearing values of a template parameter, as (field, sub-field or None).
TEMPLATE_PARAMETER_TEXTS = (("text", None), ("payload", None), ("currency", "fallback_value"),
                            ("date_time", "fallback_value"), ("image", "link"), ("document", "link"),
                            ("video", "link"))


class TemplateError(ValueError):
    """Content that cannot be personalized: a malformed placeholder (with its `position`, a
    0-based character offset) or an undeclared variable; `where` names the template field."""

    def __init__(self, reason: str, position: int | None = None, where: str | None = None):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason, self.position, self.where = reason, position, where


class MissingVariable(ValueError):
    """A contact lacks a variable that the content uses without a default."""

    def __init__(self, key: str):
        super().__init__(f"the contact has no {key!r} and the content gives {{{{{key}}}}} no default")
        self.key = key


Slot = tuple[int, str, str | None]  # (index in the parts, key, default)


@dataclass(frozen=True, slots=True)
class Placeholders:
    """Text compiled into literal parts with placeholder slots between them."""

    text: str
    parts: tuple[str, ...]
    slots: tuple[Slot, ...]

    @classmethod
    def parse(cls, text: str, *, dotted: bool = False) -> Placeholders:
        """TemplateError (with the position) for a malformed placeholder."""
        pattern = _DOTTED if dotted else _PLAIN
        parts: list[str] = []
        slots: list[Slot] = []
        done = 0
        while (at := text.find("{{", done)) != -1:
            match = pattern.match(text, at)
            if match is None:
                raise _malformed(text, at, dotted)
            key, default = match.group(1), match.group(2)
            parts.append(text[done:at])
            slots.append((len(parts), key if dotted else key.lower(), None if default is None else default.strip()))
            parts.append("")
            done = match.end()
        parts.append(text[done:])
        return cls(text, tuple(parts), tuple(slots))

    @property
    def variables(self) -> frozenset[str]:
        """Every key the text uses."""
        return frozenset(key for _, key, _ in self.slots)

    def render_with(self, lookup: Lookup, *, strict: bool = True,
                    escape: Callable[[str], str] | None = None) -> str:
        """The text with each placeholder replaced by `lookup(key)` (stringified), or its default
        when that is None or blank. Without a default: MissingVariable when `strict`, else "".
        `escape`, when given, is applied to looked-up values (never to the literal text)."""
        if not self.slots:
            return self.text
        out = list(self.parts)
        for index, key, default in self.slots:
            value = lookup(key)
            if value is not None and value.__class__ is not str:
                value = str(value)
            if not value or value.isspace():
                if default is None and strict:
                    raise MissingVariable(key)
                value = default or ""
            elif escape is not None:
                value = escape(value)
            out[index] = value
        return "".join(out)


ParameterText = tuple[str, str | None, Placeholders]  # (parameter field, its sub-field or None, template)


@dataclass(frozen=True, slots=True)
class TemplateParameters:
    """A Meta template (`name`, `language`, `components` with `parameters`) whose parameter values
    hold placeholders; rendering fills them in and leaves every other value as it is."""

    template: Mapping[str, Any]
    slots: tuple[tuple[int, tuple[tuple[int, tuple[ParameterText, ...]], ...]], ...]  # by component, parameter

    @classmethod
    def parse(cls, template: Mapping[str, Any], *, dotted: bool = False) -> TemplateParameters:
        template = copy.deepcopy(dict(template))
        components = template.get("components", [])
        if not isinstance(components, list):
            raise TemplateError("must be a list", where="components")
        by_component = []
        for ci, component in enumerate(components):
            where = f"components[{ci}]"
            if not isinstance(component, dict) or not isinstance(component.get("parameters", []), list):
                raise TemplateError("must be an object whose `parameters` is a list", where=where)
            by_parameter = []
            for pi, parameter in enumerate(component.get("parameters", [])):
                if not isinstance(parameter, dict):
                    raise TemplateError("must be an object", where=f"{where}.parameters[{pi}]")
                fields = tuple(_compile_fields(parameter, f"{where}.parameters[{pi}]", dotted))
                if fields:
                    by_parameter.append((pi, fields))
            if by_parameter:
                by_component.append((ci, tuple(by_parameter)))
        return cls(template, tuple(by_component))

    @property
    def variables(self) -> frozenset[str]:
        return frozenset().union(*(t.variables for t in self.texts()))

    def render_with(self, lookup: Lookup, *, strict: bool = True) -> dict[str, Any]:
        """The template with its parameters rendered. Copies only what it changes: the rest is
        shared with `self.template`, so treat the result as read-only."""
        return self.render_each(lambda text: text.render_with(lookup, strict=strict))

    def render_each(self, render: Callable[[Any], str]) -> dict[str, Any]:
        """The template with each parameter text replaced by `render(its compiled text)`."""
        out = dict(self.template)
        if not self.slots:
            return out
        components = out["components"] = list(out["components"])
        for ci, by_parameter in self.slots:
            component = components[ci] = dict(components[ci])
            parameters = component["parameters"] = list(component["parameters"])
            for pi, fields in by_parameter:
                parameter = parameters[pi] = dict(parameters[pi])
                for field, sub, text in fields:
                    value = render(text)
                    parameter[field] = value if sub is None else {**parameter[field], sub: value}
        return out

    def texts(self) -> Iterable[Placeholders]:
        return (text for _, by_parameter in self.slots for _, fields in by_parameter for _, _, text in fields)


def _compile_fields(parameter: dict[str, Any], where: str, dotted: bool) -> Iterable[ParameterText]:
    for field, sub in TEMPLATE_PARAMETER_TEXTS:
        value = parameter.get(field)
        if sub is not None:
            value = value.get(sub) if isinstance(value, dict) else None
        if isinstance(value, str) and "{{" in value:
            try:
                yield field, sub, Placeholders.parse(value, dotted=dotted)
            except TemplateError as error:
                path = f"{where}.{field}" + (f".{sub}" if sub else "")
                raise TemplateError(error.reason, error.position, path) from None


def _malformed(text: str, at: int, dotted: bool) -> TemplateError:
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    close = text.find("}}", at + 2)
    if close == -1 or "\n" in text[at:close]:
        what = f"unclosed placeholder {_excerpt(text[at:])}"
    elif not text[at + 2:close].strip():
        what = "empty placeholder {{ }}"
    elif dotted:
        what = (f"malformed placeholder {_excerpt(text[at:close + 2])}; write {{{{path}}}} or "
                "{{path|default}} (a path is names of letters, digits, _ and - joined by dots, "
                "such as contact.name)")
    else:
        what = (f"malformed placeholder {_excerpt(text[at:close + 2])}; write {{{{key}}}} or "
                "{{key|default}} (a key is letters, digits and _)")
    return TemplateError(f"position {at} (line {line}, column {column}): {what}", position=at)


def _excerpt(text: str, limit: int = 40) -> str:
    text = text.split("\n", 1)[0]
    return text if len(text) <= limit else text[:limit] + "…"
