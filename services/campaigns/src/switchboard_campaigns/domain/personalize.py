"""Personalized campaign content: `{{key}}` / `{{key|default}}` placeholders in free text
(`TextTemplate`, also for media captions) and in the parameters of a Meta template
(`TemplateContent`: its components' values and its shorthand `parameters` values alike), compiled once
and rendered per contact; plus the check of placeholders against the variable names a campaign declares
(`known_variables_check`).

The syntax is the platform's (`switchboard_contracts.placeholders`, plain keys): a key is letters,
digits and `_`, lower-cased; whitespace inside the braces is ignored; a default runs to the first
`}}` on the same line, is stripped, may be empty and may not contain `{{`. `phone` is always there;
`name` and every other key may be missing, and a missing or blank value takes the default."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from switchboard_contracts.placeholders import (
    Lookup, MissingVariable, Placeholders, TemplateError, TemplateParameters,
)

__all__ = ["BUILT_INS", "MissingVariable", "TemplateContent", "TemplateError", "TextTemplate",
           "known_variables_check"]

BUILT_INS = frozenset({"phone", "name"})


def _contact(phone: str, name: str | None, variables: Mapping[str, str]) -> Lookup:
    return lambda key: phone if key == "phone" else name if key == "name" else variables.get(key)


def _required(texts: Iterable[Placeholders]) -> frozenset[str]:
    return frozenset(key for text in texts for _, key, default in text.slots if default is None) - {"phone"}


@dataclass(frozen=True, slots=True)
class TextTemplate(Placeholders):
    """Text compiled into literal parts with placeholder slots between them (plain keys)."""

    @property
    def required(self) -> frozenset[str]:
        """The keys a contact must have: used somewhere without a default (never `phone`)."""
        return _required((self,))

    def render(self, phone: str, name: str | None, variables: Mapping[str, str]) -> str:
        """The text for one contact; MissingVariable for a required key it lacks."""
        return self.render_with(_contact(phone, name, variables))

    def missing(self, name: str | None, variables: Mapping[str, str]) -> list[str]:
        """The required keys this contact lacks, sorted (what contact import reports)."""
        return _missing(self.required, name, variables)


ShorthandText = tuple[int | str, Placeholders]  # (position in the list or key in the object, compiled value)


@dataclass(frozen=True, slots=True)
class TemplateContent(TemplateParameters):
    """A Meta template whose parameter values hold placeholders — in its components, and in its shorthand
    `parameters` (a list for the body's variables, or an object keyed `"1"`, `"header.1"`, `"button.0"`…);
    rendering fills them in for one contact and leaves every other value as it is."""

    shorthand: tuple[ShorthandText, ...] = ()

    @classmethod
    def parse(cls, template: Mapping[str, Any], *, dotted: bool = False) -> TemplateContent:
        """TemplateError naming the field (`components[1].parameters[0].text`, `parameters.header.1`)."""
        base = TemplateParameters.parse(template, dotted=dotted)
        return cls(base.template, base.slots, tuple(_shorthand(base.template.get("parameters"), dotted)))

    def texts(self) -> Iterable[Placeholders]:
        yield from TemplateParameters.texts(self)
        yield from (text for _, text in self.shorthand)

    @property
    def required(self) -> frozenset[str]:
        return _required(self.texts())

    def render(self, phone: str, name: str | None, variables: Mapping[str, str]) -> dict[str, Any]:
        """The template for one contact. Copies only what it changes: the rest is shared with
        `self.template`, so treat the result as read-only."""
        return self.fill(_contact(phone, name, variables))

    def sample(self, value: str) -> dict[str, Any]:
        """The template with every placeholder as `value` (a check of its structure, not a contact's)."""
        return self.fill(lambda key: value)

    def fill(self, lookup: Lookup) -> dict[str, Any]:
        out = self.render_with(lookup)
        if self.shorthand:
            values = out["parameters"] = (list if isinstance(out["parameters"], list) else dict)(out["parameters"])
            for key, text in self.shorthand:
                values[key] = text.render_with(lookup)
        return out

    def missing(self, name: str | None, variables: Mapping[str, str]) -> list[str]:
        return _missing(self.required, name, variables)


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


def _shorthand(parameters: Any, dotted: bool) -> Iterable[ShorthandText]:
    """The shorthand values that hold placeholders, compiled."""
    if isinstance(parameters, list):
        items: Iterable[tuple[int | str, Any]] = enumerate(parameters)
    elif isinstance(parameters, dict):
        items = parameters.items()
    else:
        return
    for key, value in items:
        if isinstance(value, str) and "{{" in value:
            where = f"parameters[{key}]" if isinstance(key, int) else f"parameters.{key}"
            try:
                yield key, Placeholders.parse(value, dotted=dotted)
            except TemplateError as error:
                raise TemplateError(error.reason, error.position, where) from None


def _missing(required: frozenset[str], name: str | None, variables: Mapping[str, str]) -> list[str]:
    def lacks(key: str) -> bool:
        value = name if key == "name" else variables.get(key)
        return value is None or not str(value).strip()
    return sorted(key for key in required if lacks(key))
