"""Dropping a service's read tables and building them again from SWITCHBOARD_EVENTS, through the same
code its live consumer runs: the consumer is deleted (it starts again from the beginning; applying an
event twice changes nothing), the tables truncated, and every event on the consumer's subjects
replayed in stream order, in batches; the answer says how many and how fast (`events_per_second`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import nats
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.streams import ConsumerSpec

from .database import async_engine, migrate
from .messaging.bus import BusJetStream
from .messaging.declare import ensure_streams
from .messaging.history import StreamReader
from .settings import ServiceSettings

Apply = Callable[[AsyncEngine, list[CloudEvent]], Awaitable[None]]


@dataclass(slots=True)
class StoredEvent:
    """A stored CloudEvent read back without validating it again (it was validated before it was
    published), its fields as the JSON has them (`time` a string): what projections reading `id`,
    `type`, `orgid` and `data` need, at a fraction of a model's cost."""

    id: str
    type: str
    orgid: str
    data: dict
    time: str | None = None
    subject: str | None = None
    correlationid: str | None = None
    causationid: str | None = None


def trusted_event(raw: bytes) -> StoredEvent:
    doc = json.loads(raw)
    try:
        return StoredEvent(doc["id"], doc["type"], doc["orgid"], doc["data"], doc.get("time"), doc.get("subject"),
                           doc.get("correlationid"), doc.get("causationid"))
    except (KeyError, TypeError) as exc:
        raise ValueError("not a CloudEvent") from exc


async def rebuild(settings: ServiceSettings, migrations: Path, schema: str, tables: tuple[str, ...],
                  spec: ConsumerSpec, apply: Apply, batch: int = 1000,
                  after: Callable[[AsyncEngine], Awaitable[dict]] | None = None,
                  parse: Callable[[bytes], CloudEvent | StoredEvent] = CloudEvent.from_json_bytes) -> dict:
    """Rebuild `tables` of `schema` from the events `spec` reads; `after` may add to them (and to the
    answer) once the replay is done. The answer's `seconds` and `events_per_second` are the whole rebuild's
    (migrations, truncation, replay and `after`)."""
    began = time.perf_counter()
    db = settings.database()
    await migrate(migrations, db, schema)
    engine = async_engine(db, pool_size=2)
    nc = await nats.connect(settings.nats_url)
    try:
        js = BusJetStream(nc)
        await ensure_streams(js, settings)
        try:
            await js.delete_consumer(spec.stream, spec.durable)
        except nats.js.errors.NotFoundError:
            pass
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE " + ", ".join(f"{schema}.{t}" for t in tables)))
        last = (await js.stream_info(spec.stream)).state.last_seq
        applied = await _replay(js, engine, spec, apply, batch, last, parse)
        result = {"replayed_events": applied, "last_sequence": last, **(await after(engine) if after else {})}
        seconds = time.perf_counter() - began
        return {**result, "seconds": round(seconds, 3), "events_per_second": round(applied / seconds)}
    finally:
        await nc.close()
        await engine.dispose()


async def _replay(js, engine: AsyncEngine, spec: ConsumerSpec, apply: Apply, batch: int, last: int,
                  parse: Callable[[bytes], CloudEvent]) -> int:
    """Every event on the consumer's subjects up to the stream's sequence `last`, in stream order, handed
    to `apply` `batch` at a time — one batch applied while the next is read and parsed (the database works
    on the other core), never two at once, so they are applied in order. Read with the history reader (a
    pull consumer without acks, big pull batches, nothing parsed on the way): nats-py's ordered consumer
    cost more than the projection."""
    if not last:
        return 0
    applied, pending = 0, []
    in_flight: asyncio.Task | None = None

    async def hand_over(events: list[CloudEvent]) -> None:
        nonlocal in_flight, applied
        if in_flight is not None:
            await in_flight
        in_flight = asyncio.create_task(apply(engine, events))
        applied += len(events)

    reader = StreamReader(js, spec.stream, list(spec.filter_subjects), start_seq=1, batch=max(batch, 1000))
    try:
        async for msgs in reader.batches():
            for sequence, _ns, msg in msgs:
                if sequence > last:
                    break
                try:
                    pending.append(parse(msg.data))
                except ValueError:
                    pass  # not an event: the live consumer dead-letters such messages
                if len(pending) >= batch:
                    await hand_over(pending)
                    pending = []
        if pending:
            await hand_over(pending)
        if in_flight is not None:
            await in_flight
    finally:
        if in_flight is not None and not in_flight.done():
            in_flight.cancel()
            await asyncio.gather(in_flight, return_exceptions=True)
    return applied
