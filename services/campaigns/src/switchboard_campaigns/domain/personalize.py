"""Personalized campaign content: `{{key}}` / `{{key|default}}` placeholders in free text
(`TextTemplate`, also for media captions) and in the parameters of a Meta template
(`TemplateContent`), compiled once and rendered per contact; plus the check of placeholders against
the variable names a campaign declares (`known_variables_check`).

A key is letters, digits and `_`; whitespace inside the braces is ignored; a default runs to the
first `}}` on the same line, is stripped, may be empty and may not contain `{{`. `phone` is always
there; `name` and every other key may be missing, and a missing or blank value takes the default."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BUILT_INS = frozenset({"phone", "name"})
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*(?:\|((?:(?!\}\}|\{\{)[^\n])*))?\}\}")
# The text-bearing values of a template parameter, as (field, sub-field or None).
_PARAMETER_TEXTS = (("text", None), ("payload", None), ("currency", "fallback_value"),
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
class TextTemplate:
    """Text compiled into literal parts with placeholder slots between them."""

    text: str
    parts: tuple[str, ...]
    slots: tuple[Slot, ...]

    @classmethod
    def parse(cls, text: str) -> TextTemplate:
        parts: list[str] = []
        slots: list[Slot] = []
        done = 0
        while (at := text.find("{{", done)) != -1:
            match = _PLACEHOLDER.match(text, at)
            if match is None:
                raise _malformed(text, at)
            # keys are case-insensitive (CSV column names are lower-cased): {{Plan}} reads `plan`
            key, default = match.group(1).lower(), match.group(2)
            parts.append(text[done:at])
            slots.append((len(parts), key, None if default is None else default.strip()))
            parts.append("")
            done = match.end()
        parts.append(text[done:])
        return cls(text, tuple(parts), tuple(slots))

    @property
    def variables(self) -> frozenset[str]:
        """Every key the text uses."""
        return frozenset(key for _, key, _ in self.slots)

    @property
    def required(self) -> frozenset[str]:
        """The keys a contact must have: used somewhere without a default (never `phone`)."""
        return frozenset(key for _, key, default in self.slots if default is None) - {"phone"}

    def render(self, phone: str, name: str | None, variables: Mapping[str, str]) -> str:
        """The text for one contact; MissingVariable for a required key it lacks."""
        if not self.slots:
            return self.text
        out = list(self.parts)
        for index, key, default in self.slots:
            value: Any = phone if key == "phone" else name if key == "name" else variables.get(key)
            if value is not None and value.__class__ is not str:
                value = str(value)
            if not value or value.isspace():
                if default is None:
                    raise MissingVariable(key)
                value = default
            out[index] = value
        return "".join(out)

    def missing(self, name: str | None, variables: Mapping[str, str]) -> list[str]:
        """The required keys this contact lacks, sorted (what contact import reports)."""
        return _missing(self.required, name, variables)


ParameterText = tuple[str, str | None, TextTemplate]  # (parameter field, its sub-field or None, template)


@dataclass(frozen=True, slots=True)
class TemplateContent:
    """A Meta template (`name`, `language`, `components` with `parameters`) whose parameter values
    hold placeholders; rendering fills them in and leaves every other value as it is."""

    template: Mapping[str, Any]
    slots: tuple[tuple[int, tuple[tuple[int, tuple[ParameterText, ...]], ...]], ...]  # by component, parameter

    @classmethod
    def parse(cls, template: Mapping[str, Any]) -> TemplateContent:
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
                fields = tuple(_compile_fields(parameter, f"{where}.parameters[{pi}]"))
                if fields:
                    by_parameter.append((pi, fields))
            if by_parameter:
                by_component.append((ci, tuple(by_parameter)))
        return cls(template, tuple(by_component))

    @property
    def variables(self) -> frozenset[str]:
        return frozenset().union(*(t.variables for t in self._templates()))

    @property
    def required(self) -> frozenset[str]:
        return frozenset().union(*(t.required for t in self._templates()))

    def render(self, phone: str, name: str | None, variables: Mapping[str, str]) -> dict[str, Any]:
        """The template for one contact. Copies only what it changes: the rest is shared with
        `self.template`, so treat the result as read-only."""
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
                    value = text.render(phone, name, variables)
                    parameter[field] = value if sub is None else {**parameter[field], sub: value}
        return out

    def missing(self, name: str | None, variables: Mapping[str, str]) -> list[str]:
        return _missing(self.required, name, variables)

    def _templates(self) -> Iterable[TextTemplate]:
        return (text for _, by_parameter in self.slots for _, fields in by_parameter for _, _, text in fields)


def known_variables_check(used: Iterable[str], declared: Iterable[str] | None) -> None:
    """When a campaign declares its variable names, every key its content uses (pass `.variables`)
    must be one of them or a built-in; with no declaration any key goes (contacts are checked at
    import instead)."""
    if declared is None:
        return
    names = list(dict.fromkeys(declared))
    unknown = sorted(set(used) - set(names) - BUILT_INS)
    if unknown:
        listed = ", ".join(f"{{{{{key}}}}}" for key in unknown)
        raise TemplateError(f"unknown variable{'s' if len(unknown) > 1 else ''} {listed}; "
                            f"declared: {', '.join(names) or 'none'} (name and phone are built in)")


def _compile_fields(parameter: dict[str, Any], where: str) -> Iterable[ParameterText]:
    for field, sub in _PARAMETER_TEXTS:
        value = parameter.get(field)
        if sub is not None:
            value = value.get(sub) if isinstance(value, dict) else None
        if isinstance(value, str) and "{{" in value:
            try:
                yield field, sub, TextTemplate.parse(value)
            except TemplateError as error:
                path = f"{where}.{field}" + (f".{sub}" if sub else "")
                raise TemplateError(error.reason, error.position, path) from None


def _missing(required: frozenset[str], name: str | None, variables: Mapping[str, str]) -> list[str]:
    def lacks(key: str) -> bool:
        value = name if key == "name" else variables.get(key)
        return value is None or not str(value).strip()
    return sorted(key for key in required if lacks(key))


def _malformed(text: str, at: int) -> TemplateError:
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    close = text.find("}}", at + 2)
    if close == -1 or "\n" in text[at:close]:
        what = f"unclosed placeholder {_excerpt(text[at:])}"
    elif not text[at + 2:close].strip():
        what = "empty placeholder {{ }}"
    else:
        what = (f"malformed placeholder {_excerpt(text[at:close + 2])}; write {{{{key}}}} or "
                "{{key|default}} (a key is letters, digits and _)")
    return TemplateError(f"position {at} (line {line}, column {column}): {what}", position=at)


def _excerpt(text: str, limit: int = 40) -> str:
    text = text.split("\n", 1)[0]
    return text if len(text) <= limit else text[:limit] + "…"
