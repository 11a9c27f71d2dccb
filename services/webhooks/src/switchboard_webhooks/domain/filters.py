"""An endpoint's event filters (`*`, `message.*`, `conversation.assigned`): checked against the public
event catalog, normalized (no filter covered by another: JetStream refuses overlapping filter subjects),
and turned into the subject filters of the organization's events."""

from __future__ import annotations

import re

from switchboard_contracts import catalog

FILTER = re.compile(r"^(\*|[a-z][a-z_]*\.(\*|[a-z][a-z_]*))$")
ENTITIES: frozenset[str] = frozenset(spec.entity for spec in catalog.EVENTS)
TYPES: frozenset[str] = frozenset(f"{spec.entity}.{spec.name}" for spec in catalog.EVENTS)
MAX_FILTERS = 50


class BadFilter(ValueError):
    pass


def normalized(filters: list[str]) -> list[str]:
    """The filters, checked, without repeats or filters another one covers, in a stable order."""
    if not filters:
        raise BadFilter("give at least one event type filter (`*` for every event)")
    if len(filters) > MAX_FILTERS:
        raise BadFilter(f"at most {MAX_FILTERS} event type filters")
    for f in filters:
        if not isinstance(f, str) or not FILTER.match(f):
            raise BadFilter(f"{f!r} is not an event type filter: `*`, `<entity>.*` or `<entity>.<event>`")
        entity, _, name = f.partition(".")
        if f != "*" and entity not in ENTITIES:
            raise BadFilter(f"{f!r}: there are no {entity} events (known: {', '.join(sorted(ENTITIES))})")
        if name not in ("", "*") and f not in TYPES:
            raise BadFilter(f"{f!r} is not a published event type")
    if "*" in filters:
        return ["*"]
    wildcards = {f.split(".")[0] for f in filters if f.endswith(".*")}
    kept = {f for f in filters if f.endswith(".*") or f.split(".")[0] not in wildcards}
    return sorted(kept)


def subjects(orgid: str, filters: list[str]) -> list[str]:
    """The JetStream filter subjects of the organization's events these (normalized) filters select."""
    if filters == ["*"]:
        return [f"sb.evt.{orgid}.>"]
    return [f"sb.evt.{orgid}.{f}" for f in filters]


def selects(filters: list[str], entity: str, name: str) -> bool:
    """Whether the filters select an event of this entity and name."""
    return any(f == "*" or f == f"{entity}.*" or f == f"{entity}.{name}" for f in filters)
