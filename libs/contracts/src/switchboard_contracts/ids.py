"""Deterministic identifiers: the same fact always gets the same id, so republishes dedupe."""

from __future__ import annotations

import uuid

# Fixed namespace for every id Switchboard derives; never change it (ids are public).
SWITCHBOARD_NAMESPACE = uuid.UUID("6f1c3c1e-5b7a-4f0e-9d2a-8a51c0de5b0a")


def deterministic_id(*parts: object) -> str:
    """A UUIDv5 over the parts, joined unambiguously."""
    key = "\x1f".join(str(p) for p in parts)
    return str(uuid.uuid5(SWITCHBOARD_NAMESPACE, key))


def aggregate_event_id(aggregate_id: object, version: int) -> str:
    """The CloudEvents id (and Nats-Msg-Id) of an aggregate's domain event."""
    return f"{aggregate_id}:{version}"


def new_id() -> str:
    """A fresh random id for a new resource."""
    return str(uuid.uuid4())
