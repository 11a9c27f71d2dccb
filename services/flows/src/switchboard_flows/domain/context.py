"""What a flow's placeholders and conditions read: a `Context` over
`{"contact": {"name", "phone"}, "flow": {"message", "reply_id", "data", "http": {node id: {"status",
"body", "json"}}}, "vars": {...}}`, resolving dotted paths (`flow.http.lookup.json.items.0.id`: keys
of objects, indexes of lists), and the check that a path names something a flow can have.

Values are stringified for text: numbers as Python writes them (`2`, `2.5`), booleans `true` /
`false`, objects and lists as compact JSON; None (or a path that leads nowhere) is missing."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

CONTACT_FIELDS = ("name", "phone")
FLOW_FIELDS = ("message", "reply_id", "data", "http")
HTTP_FIELDS = ("status", "body", "json")
VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Context:
    """What an execution knows at one step (treat the mappings as read-only)."""

    contact: Mapping[str, Any] = field(default_factory=dict)
    flow: Mapping[str, Any] = field(default_factory=dict)
    vars: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, value: Context | Mapping[str, Any] | None) -> Context:
        """A Context as it is, or one from a plain `{"contact", "flow", "vars"}` mapping."""
        if isinstance(value, Context):
            return value
        value = value or {}
        return cls(value.get("contact") or {}, value.get("flow") or {}, value.get("vars") or {})

    def value(self, path: str) -> Any:
        """The raw value at a dotted path (numbers stay numbers), or None."""
        root, _, rest = path.partition(".")
        current: Any = {"contact": self.contact, "flow": self.flow, "vars": self.vars}.get(root)
        for key in rest.split(".") if rest else ():
            if isinstance(current, Mapping):
                current = current.get(key)
            elif isinstance(current, list | tuple) and key.isdigit() and int(key) < len(current):
                current = current[int(key)]
            else:
                return None
            if current is None:
                return None
        return current

    def text(self, path: str) -> str | None:
        """The value at a dotted path as text, or None when it is missing."""
        return stringify(self.value(path))


def stringify(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def path_problem(path: str, http_nodes: Collection[str]) -> str | None:
    """Why a dotted path names nothing a flow can have (None when it is fine). `http_nodes` are the
    ids of the definition's http nodes, which `flow.http.<id>` must name."""
    parts = path.split(".")
    root, rest = parts[0], parts[1:]
    if root == "contact":
        if len(rest) == 1 and rest[0] in CONTACT_FIELDS:
            return None
        return "is not a contact field; use contact.name or contact.phone"
    if root == "vars":
        if len(rest) == 1 and VARIABLE_NAME.match(rest[0]):
            return None
        return "is not a variable; write vars.<name> (a name is letters, digits and _)"
    if root != "flow":
        return f"starts with {root!r}; a path starts with contact, flow or vars (such as contact.name)"
    if not rest or rest[0] not in FLOW_FIELDS:
        return ("is not a flow field; use flow.message, flow.reply_id, flow.data.<key> or "
                "flow.http.<node id>.status|body|json")
    if rest[0] in ("message", "reply_id") and len(rest) > 1:
        return f"goes past flow.{rest[0]}, which is text"
    if rest[0] == "http":
        return _http_path_problem(rest[1:], http_nodes)
    return None


def _http_path_problem(rest: list[str], http_nodes: Collection[str]) -> str | None:
    if len(rest) < 2 or rest[1] not in HTTP_FIELDS:
        return "is not an http result; write flow.http.<node id>.status, .body or .json (then a path)"
    if rest[0] not in http_nodes:
        return f"names {rest[0]!r}, which is not an http node of this flow"
    if rest[1] != "json" and len(rest) > 2:
        return f"goes past {rest[1]}; only json is followed by a path"
    return None
