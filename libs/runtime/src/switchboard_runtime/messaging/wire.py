"""Writing many NATS publishes at once: each PUB/HPUB command built as nats-py builds it (the same
subject check, header keys checked, header values trimmed with CR/LF made spaces), all joined into one
buffer handed to the connection's flusher once (`nats_internals.write_commands`) — instead of one
`Client.publish` per message, each with its own checks, pending-buffer append and flush kick. A
connection that is not up (reconnecting, closed, draining) is left to nats-py's own `publish`, with its
buffering and its errors."""

from __future__ import annotations

import re
from collections.abc import Iterable

from nats import errors
from nats.aio.client import Client

from .nats_internals import write_commands

_SUBJECT_INVALID = re.compile(r"[\s\r\n]")  # what nats-py's publish path rejects (whitespace, CR/LF)
_HEADER_KEY = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE_NEWLINES = str.maketrans({"\r": " ", "\n": " "})

Publish = tuple[str, str, bytes, dict[str, str] | None]  # subject, reply ("" for none), payload, headers


def _command(subject: str, reply: str, payload: bytes, headers: dict[str, str] | None, max_payload: int) -> bytes:
    if not subject or _SUBJECT_INVALID.search(subject) or (reply and _SUBJECT_INVALID.search(reply)):
        raise errors.BadSubjectError
    if len(payload) > max_payload:
        raise errors.MaxPayloadError
    if not headers:
        return b"PUB %s %s %d\r\n%s\r\n" % (subject.encode(), reply.encode(), len(payload), payload)
    lines = ["NATS/1.0\r\n"]
    for key, value in headers.items():
        key = key.strip()
        if not key:
            continue
        if not _HEADER_KEY.fullmatch(key):
            raise errors.BadHeaderError(key)
        lines.append(f"{key}: {value.strip().translate(_VALUE_NEWLINES)}\r\n")
    lines.append("\r\n")
    hdr = "".join(lines).encode()
    return b"HPUB %s %s %d %d\r\n%s%s\r\n" % (subject.encode(), reply.encode(), len(hdr), len(hdr) + len(payload),
                                             hdr, payload)


def can_write(nc: Client) -> bool:
    """Whether `write_many` may take the direct path (else: nats-py's `publish`, message by message)."""
    return nc.is_connected and not nc.is_draining_pubs


async def write_many(nc: Client, publishes: Iterable[Publish]) -> int:
    """Publish every message (core NATS: no acknowledgement awaited here); returns how many."""
    publishes = list(publishes)
    if not publishes:
        return 0
    if not can_write(nc):
        for subject, reply, payload, headers in publishes:
            await nc.publish(subject, payload, reply=reply, headers=headers)
        return len(publishes)
    max_payload = nc.max_payload
    buffer = b"".join(_command(subject, reply, payload, headers, max_payload)
                      for subject, reply, payload, headers in publishes)
    nc.stats["out_msgs"] += len(publishes)
    nc.stats["out_bytes"] += sum(len(p[2]) for p in publishes)
    await write_commands(nc, buffer)
    return len(publishes)
