"""Which event types an SSE client of `GET /v1/stream` gets: the `types` it asks for
(`<entity>.<event>`, either part `*`), met with what its role may see (agents and viewers: the inbox's
`conversation.*` and `message.*`; admins everything), and the stream subjects that select them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchboard_contracts import subjects

MAX_PATTERNS = 32

# --- which event types a client gets ----------------------------------------------------------------

Pattern = tuple[str, str]  # (entity, event), either may be "*"
_TOKEN = re.compile(r"[a-z][a-z0-9_]*|\*")
# agents and viewers see the inbox's events; admins everything
ROLE_PATTERNS: dict[str, tuple[Pattern, ...] | None] = {
    "admin": None, "agent": (("conversation", "*"), ("message", "*")),
    "viewer": (("conversation", "*"), ("message", "*"))}


def parse_types(raw: str | None) -> tuple[Pattern, ...] | None:
    """`conversation.*,message.status` → patterns; None (everything) when not given. ValueError names
    what is wrong."""
    if raw is None:
        return None
    items = [item.strip() for item in raw.split(",")]
    if len(items) > MAX_PATTERNS:
        raise ValueError(f"at most {MAX_PATTERNS} types")
    out: list[Pattern] = []
    for item in items:
        parts = item.split(".")
        if item == "*":
            parts = ["*", "*"]
        if len(parts) != 2 or not all(_TOKEN.fullmatch(p) for p in parts):
            raise ValueError(f"{item!r} is not a type: use <entity>.<event>, either may be *"
                             " (conversation.*, message.status, *)")
        if (parts[0], parts[1]) not in out:
            out.append((parts[0], parts[1]))
    return tuple(out)


def _meet(a: Pattern, b: Pattern) -> Pattern | None:
    """The types both patterns match, as a pattern (None: none)."""
    out = []
    for x, y in zip(a, b, strict=True):
        if x == "*" or x == y:
            out.append(y)
        elif y == "*":
            out.append(x)
        else:
            return None
    return out[0], out[1]


def _covers(a: Pattern, b: Pattern) -> bool:
    return all(x == "*" or x == y for x, y in zip(a, b, strict=True))


def allowed_types(asked: tuple[Pattern, ...] | None, role: str) -> tuple[Pattern, ...] | None:
    """What a role gets of what it asked: the intersection (None: everything; () nothing)."""
    allowed = ROLE_PATTERNS.get(role, ROLE_PATTERNS["viewer"])
    if allowed is None:
        return asked
    if asked is None:
        return allowed
    out: list[Pattern] = []
    for a in asked:
        for b in allowed:
            if (m := _meet(a, b)) is not None and m not in out:
                out.append(m)
    return tuple(out)


@dataclass(frozen=True)
class TypeFilter:
    patterns: tuple[Pattern, ...] | None = None  # None: every type

    def accepts(self, type_: str) -> bool:
        if self.patterns is None:
            return True
        entity, _, event = type_.partition(".")
        return any((p[0] == "*" or p[0] == entity) and (p[1] == "*" or p[1] == event) for p in self.patterns)

    def subjects(self, org: str) -> list[str]:
        """The consumer filters of a replay: one subject per pattern when they do not overlap (the
        server refuses overlapping filters), else the organization's whole history (filtered here)."""
        everything = [subjects.org_events(org)]
        if self.patterns is None or len(self.patterns) > 16:
            return everything
        kept = [p for p in self.patterns
                if not any(q != p and _covers(q, p) for q in self.patterns)]
        if any(_meet(p, q) is not None for i, p in enumerate(kept) for q in kept[i + 1:]):
            return everything
        if ("*", "*") in kept:
            return everything
        return [f"sb.evt.{org}.{entity}.{event}" for entity, event in kept]
