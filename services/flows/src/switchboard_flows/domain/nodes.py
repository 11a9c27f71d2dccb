"""The nodes of a flow, as parsed and checked (`parse_definition`): one frozen dataclass per node
type with its settings, the exits each type has (None is the default exit, the edge without
`exit`), and the JSON each node is stored and shown as. Treat the dicts they hold as read-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

DEFAULT = None  # the exit of single-exit nodes: an edge without `exit`
EXITS: dict[str, tuple[str | None, ...]] = {
    "start": (DEFAULT,), "end": (), "message": ("sent", "failed"), "condition": (),  # rules + else
    "delay": (DEFAULT,), "wait_for_reply": ("reply", "timeout"), "http": ("success", "failure"),
    "email": ("sent", "failed"), "set_variable": (DEFAULT,), "handoff": (),
}
NODE_TYPES = tuple(EXITS)
ELSE = "else"
# Keys an editor may keep on a node for itself (kept as they are, never read).
PRESENTATION = frozenset({"position", "label", "ui"})


@dataclass(frozen=True, kw_only=True)
class Node:
    id: str
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    type: ClassVar[str] = ""

    @property
    def exits(self) -> tuple[str | None, ...]:
        return EXITS[self.type]

    def as_json(self) -> dict[str, Any]:
        settings = {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)
                    if f.name not in ("id", "extra") and getattr(self, f.name) is not None}
        return {"id": self.id, "type": self.type, **settings, **self.extra}


@dataclass(frozen=True, kw_only=True)
class StartNode(Node):
    type: ClassVar[str] = "start"


@dataclass(frozen=True, kw_only=True)
class EndNode(Node):
    type: ClassVar[str] = "end"


@dataclass(frozen=True, kw_only=True)
class MessageNode(Node):
    """`message`: a `POST /v1/messages` body without `to` and the sender (type and content)."""

    type: ClassVar[str] = "message"
    message: Mapping[str, Any]
    sender_id: str | None = None


@dataclass(frozen=True)
class Condition:
    """`field` (a dotted path), `op`, and `value` (None for `exists`; a tuple for `one_of`)."""

    field: str
    op: str
    value: Any = None
    pattern: Any = field(default=None, compare=False, repr=False)  # the compiled regex

    def as_json(self) -> dict[str, Any]:
        out = {"field": self.field, "op": self.op}
        return out if self.op == "exists" else {**out, "value": _jsonable(self.value)}


@dataclass(frozen=True)
class Rule:
    exit: str
    condition: Condition

    def as_json(self) -> dict[str, Any]:
        return {"exit": self.exit, "if": self.condition.as_json()}


@dataclass(frozen=True, kw_only=True)
class ConditionNode(Node):
    """Rules in order: the first that matches picks its exit, else the `else` exit."""

    type: ClassVar[str] = "condition"
    rules: tuple[Rule, ...]

    @property
    def exits(self) -> tuple[str | None, ...]:
        return (*(rule.exit for rule in self.rules), ELSE)


@dataclass(frozen=True, kw_only=True)
class DelayNode(Node):
    """Waits `seconds`, or until the time `until` renders to (templated)."""

    type: ClassVar[str] = "delay"
    seconds: int | None = None
    until: str | None = None


@dataclass(frozen=True, kw_only=True)
class WaitNode(Node):
    """Waits for the contact's next message (exit `reply`) or `timeout_seconds` (exit `timeout`)."""

    type: ClassVar[str] = "wait_for_reply"
    timeout_seconds: int = 3600


@dataclass(frozen=True, kw_only=True)
class HttpNode(Node):
    """A request: `url`, header values and the string leaves of `body` are templated."""

    type: ClassVar[str] = "http"
    method: str = "GET"
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    timeout_seconds: int = 10
    retries: int = 2


@dataclass(frozen=True, kw_only=True)
class EmailNode(Node):
    type: ClassVar[str] = "email"
    to: str
    subject: str
    body: str


@dataclass(frozen=True, kw_only=True)
class SetVariableNode(Node):
    """`variables`: name → templated value, each stored in the execution's `vars`."""

    type: ClassVar[str] = "set_variable"
    variables: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class HandoffNode(Node):
    """Hands the conversation to people (optionally a team, with a templated note); ends the flow."""

    type: ClassVar[str] = "handoff"
    team_id: str | None = None
    note: str | None = None


NODE_CLASSES: dict[str, type[Node]] = {cls.type: cls for cls in (
    StartNode, EndNode, MessageNode, ConditionNode, DelayNode, WaitNode, HttpNode, EmailNode,
    SetVariableNode, HandoffNode)}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "as_json"):
        return value.as_json()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
