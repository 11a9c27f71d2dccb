"""Reading one node's (or the trigger's) settings out of its JSON: typed getters that record a
problem sentence instead of raising, defaults for what is left out, templated strings checked for
well-formed placeholders naming things a flow has, and settings that do not exist reported."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from switchboard_contracts.placeholders import Placeholders, TemplateError

from .context import path_problem
from .nodes import PRESENTATION

MISSING: Any = object()


class Settings:
    """Settings of `what` (e.g. "a delay node") read from `raw`; `problems` collects sentences."""

    def __init__(self, raw: Mapping[str, Any], what: str, http_nodes: Collection[str] = ()):
        self.raw, self.what, self.http_nodes = raw, what, http_nodes
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def whole(self, key: str, low: int, high: int, default: Any = MISSING, unit: str = "") -> int | None:
        value = self.raw.get(key, default)
        if value is MISSING:
            self.problem(f"{self.what} needs `{key}`, a whole number from {low} to {high}{unit}.")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(f"`{key}` must be a whole number from {low} to {high}{unit}, not {_show(value)}.")
            return None
        return value

    def text(self, key: str, max_length: int, default: Any = MISSING, choices: Iterable[str] = ()) -> str | None:
        value = self.raw.get(key, default)
        if value is None and default is None:
            return None
        if value is MISSING:
            self.problem(f"{self.what} needs `{key}`" + (f", one of {', '.join(choices)}." if choices else "."))
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > max_length:
            self.problem(f"`{key}` must be a non-empty text of at most {max_length} characters, not {_show(value)}.")
            return None
        if choices and value not in choices:
            self.problem(f"`{key}` must be one of {', '.join(choices)}, not {_show(value)}.")
            return None
        return value

    def templated(self, key: str, max_length: int, default: Any = MISSING) -> str | None:
        value = self.text(key, max_length, default)
        if value is not None:
            self.check_template(value, f"`{key}`")
        return value

    def check_template(self, value: str, where: str) -> None:
        for message in template_problems(value, self.http_nodes):
            self.problem(f"{where}: {message}")

    def unknown(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in self.raw:
            if key not in allowed:
                takes = ", ".join(f"`{k}`" for k in sorted(allowed - {"id", "type"} - PRESENTATION))
                self.problem(f"`{key}` is not a setting of {self.what}" +
                             (f"; it takes {takes}." if takes else "; it takes none."))


def template_problems(value: str, http_nodes: Collection[str]) -> list[str]:
    """What is wrong with a templated string: a malformed placeholder, or one naming a path a flow
    has no value for."""
    try:
        parsed = Placeholders.parse(value, dotted=True)
    except TemplateError as error:
        return [error.reason + "."]
    return [f"{{{{{key}}}}} {reason}." for key in sorted(parsed.variables)
            if (reason := path_problem(key, http_nodes)) is not None]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
