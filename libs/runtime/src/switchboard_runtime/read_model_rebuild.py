"""Dropping a service's read tables and building them again from SWITCHBOARD_EVENTS, through the same
code its live consumer runs: the consumer is deleted (it starts again from the beginning; applying an
event twice changes nothing), the tables truncated, and every event on the consumer's subjects
replayed in stream order, in batches."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.streams import ConsumerSpec

from .database import async_engine, migrate
from .messaging.declare import ensure_streams
from .settings import ServiceSettings

Apply = Callable[[AsyncEngine, list[CloudEvent]], Awaitable[None]]


async def rebuild(settings: ServiceSettings, migrations: Path, schema: str, tables: tuple[str, ...],
                  spec: ConsumerSpec, apply: Apply, batch: int = 1000,
                  after: Callable[[AsyncEngine], Awaitable[dict]] | None = None) -> dict:
    """Rebuild `tables` of `schema` from the events `spec` reads; `after` may add to them (and to the
    answer) once the replay is done."""
    db = settings.database()
    await migrate(migrations, db, schema)
    engine = async_engine(db, pool_size=2)
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, settings)
        try:
            await js.delete_consumer(spec.stream, spec.durable)
        except nats.js.errors.NotFoundError:
            pass
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE " + ", ".join(f"{schema}.{t}" for t in tables)))
        last = (await js.stream_info(spec.stream)).state.last_seq
        applied = await _replay(js, engine, spec, apply, batch, last)
        return {"replayed_events": applied, "last_sequence": last, **(await after(engine) if after else {})}
    finally:
        await nc.close()
        await engine.dispose()


async def _replay(js, engine: AsyncEngine, spec: ConsumerSpec, apply: Apply, batch: int, last: int) -> int:
    if len(spec.filter_subjects) != 1:  # one ordered consumer keeps the stream's order
        raise ValueError(f"{spec.durable}: a rebuild replays one filter subject")
    if not last:
        return 0
    sub = await js.subscribe(spec.filter_subjects[0], ordered_consumer=True, stream=spec.stream)
    applied, pending = 0, []
    try:
        for _ in range(last):  # bounded by the stream's length
            try:
                msg = await sub.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                break  # nothing (more) on the subject
            try:
                pending.append(CloudEvent.from_json_bytes(msg.data))
            except ValueError:
                pass  # not an event: the live consumer dead-letters such messages
            done = msg.metadata.num_pending == 0 or msg.metadata.sequence.stream >= last
            if len(pending) >= batch or done:
                await apply(engine, pending)
                applied, pending = applied + len(pending), []
            if done:
                break
        if pending:
            await apply(engine, pending)
            applied += len(pending)
    finally:
        await sub.unsubscribe()
    return applied
