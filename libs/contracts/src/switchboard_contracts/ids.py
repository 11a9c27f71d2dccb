"""Deterministic identifiers: the same fact always gets the same id, so republishes dedupe."""

from __future__ import annotations

import hashlib
import uuid

# Fixed namespace for every id Switchboard derives; never change it (ids are public).
SWITCHBOARD_NAMESPACE = uuid.UUID("6f1c3c1e-5b7a-4f0e-9d2a-8a51c0de5b0a")
_NAMESPACE_BYTES = SWITCHBOARD_NAMESPACE.bytes


def deterministic_id(*parts: object) -> str:
    """A UUIDv5 over the parts, joined unambiguously: `str(uuid.uuid5(SWITCHBOARD_NAMESPACE, key))`,
    computed without the UUID object (a third of the time; the conversations service derives one
    per message it records). `uuid5` is the SHA-1 of namespace and name, its first 16 bytes with
    the version (5) in byte 6's high nibble and the RFC 4122 variant (10) in byte 8's top bits."""
    key = "\x1f".join([str(p) for p in parts])
    h = bytearray(hashlib.sha1(_NAMESPACE_BYTES + key.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def aggregate_event_id(aggregate_id: object, version: int) -> str:
    """The CloudEvents id (and Nats-Msg-Id) of an aggregate's domain event."""
    return f"{aggregate_id}:{version}"


def new_id() -> str:
    """A fresh random id for a new resource."""
    return str(uuid.uuid4())
