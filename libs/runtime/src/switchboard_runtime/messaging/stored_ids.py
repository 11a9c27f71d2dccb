"""Which message ids a stream already stores: what a producer that republishes with the same ids reads
on recovery, instead of trusting JetStream's duplicate window (a couple of minutes) to drop repeats.

A headers-only ephemeral pull consumer, filtered on the given subjects, reads from a sequence (or a
time) until nothing is pending; it never reads a payload and is deleted when done."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import nats.errors
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from ..logs import get_logger

log = get_logger(__name__)

MAX_FILTERS = 64  # beyond this many subjects, subjects of one shape share one wildcard filter


def filters_for(subjects: Iterable[str], limit: int = MAX_FILTERS) -> list[str]:
    """The subjects as consumer filters that never overlap: themselves when few, else one filter per
    number of tokens, with `*` where the subjects differ (`sb.evt.*.sender.*`)."""
    distinct = sorted(set(subjects))
    if len(distinct) <= limit:
        return distinct
    shapes: dict[int, list[str]] = {}
    for subject in distinct:
        tokens = subject.split(".")
        shape = shapes.setdefault(len(tokens), tokens)
        shapes[len(tokens)] = [a if a == b else "*" for a, b in zip(shape, tokens, strict=True)]
    return sorted(".".join(tokens) for tokens in shapes.values())


async def stored_ids(js: JetStreamContext, stream: str, subjects: Iterable[str], *,
                     after_seq: int | None = None, since: datetime | None = None,
                     max_messages: int = 1_000_000, batch: int = 1_000) -> set[str]:
    """The `Nats-Msg-Id`s `stream` stores on `subjects` after sequence `after_seq` (or, without one,
    since `since`; with neither, all of them). Bounded: stops at `max_messages` read (logged)."""
    filters = filters_for(subjects)
    if not filters:
        return set()
    if after_seq is not None:
        start = {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": after_seq + 1}
    elif since is not None:
        start = {"deliver_policy": DeliverPolicy.BY_START_TIME, "opt_start_time": since}
    else:
        start = {"deliver_policy": DeliverPolicy.ALL}
    name = f"stored-ids-{uuid.uuid4().hex}"
    config = ConsumerConfig(name=name, ack_policy=AckPolicy.NONE, headers_only=True, mem_storage=True,
                            filter_subjects=filters, inactive_threshold=30.0, num_replicas=1, **start)
    info = await js.add_consumer(stream, config)
    ids: set[str] = set()
    try:
        if info.num_pending == 0:
            return ids
        sub = await js.pull_subscribe_bind(consumer=name, stream=stream)
        try:
            read = 0
            while read < max_messages:
                try:
                    msgs = await sub.fetch(batch, timeout=2.0)
                except nats.errors.TimeoutError:
                    break
                for msg in msgs:
                    if msg.headers and (mid := msg.headers.get("Nats-Msg-Id")):
                        ids.add(mid)
                read += len(msgs)
                if msgs and msgs[-1].metadata.num_pending == 0:
                    break
            else:
                log.warning("stopped reading stored ids", stream=stream, read=read)
        finally:
            await sub.unsubscribe()
    finally:
        try:
            await js.delete_consumer(stream, name)
        except Exception:  # noqa: BLE001 - gone already: its inactivity threshold removes it anyway
            pass
    return ids
