"""`python -m switchboard_conversations.rebuild`: drop the read tables (messages, pending statuses,
conversations) and build them again from SWITCHBOARD_EVENTS with the same code the live consumer runs.
API sends whose command is still in the outbox (no `message.accepted` yet) are recorded again from it.
The Conversation aggregates and the outbox itself are not read tables: they stay."""

from __future__ import annotations

import asyncio
import json
import sys

import nats
from sqlalchemy import text

from switchboard_contracts import commands, streams
from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.database import async_engine, migrate
from switchboard_runtime.messaging.declare import ensure_streams

from .history import record
from .main import MIGRATIONS
from .records import NewMessage, StatusUpdate, collect
from .sends import queued
from .settings import ConversationsSettings
from .tables import READ_MODEL_TABLES, SCHEMA

OUTBOX = text(f"SELECT payload FROM {SCHEMA}.command_outbox ORDER BY seq")


async def rebuild(settings: ConversationsSettings, batch: int = 2000) -> dict:
    db = settings.database()
    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db, pool_size=2)
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, settings)
        spec = streams.CONVERSATIONS_HISTORY
        try:  # the live consumer restarts from the beginning; applying twice changes nothing
            await js.delete_consumer(spec.stream, spec.durable)
        except nats.js.errors.NotFoundError:
            pass
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE " + ", ".join(f"{SCHEMA}.{t}" for t in READ_MODEL_TABLES)))
        info = await js.stream_info(spec.stream)
        last, applied = info.state.last_seq, 0
        messages: dict[str, NewMessage] = {}
        statuses: list[StatusUpdate] = []

        async def flush() -> None:
            nonlocal messages, statuses
            async with engine.begin() as conn:
                await record(conn, list(messages.values()), statuses)
            messages, statuses = {}, []

        if info.state.messages:
            sub = await js.subscribe(spec.filter_subjects[0], ordered_consumer=True, stream=spec.stream)
            seq = 0
            while seq < last:
                try:
                    msg = await sub.next_msg(timeout=2)
                except nats.errors.TimeoutError:
                    break  # nothing (more) on the history's subjects
                seq = msg.metadata.sequence.stream
                try:
                    collect(CloudEvent.from_json_bytes(msg.data), messages, statuses)
                    applied += 1
                except ValueError:
                    pass  # not a message event: the live consumer dead-letters such messages
                if len(messages) + len(statuses) >= batch:
                    await flush()
                if msg.metadata.num_pending == 0:
                    break
            await sub.unsubscribe()
        await flush()
        async with engine.begin() as conn:
            waiting = [queued(ce.orgid, commands.SendMessage.model_validate(ce.data))
                       for ce in (CloudEvent.from_json_bytes(bytes(r.payload)) for r in await conn.execute(OUTBOX))]
            await record(conn, waiting, [])
        return {"replayed_events": applied, "from_outbox": len(waiting), "last_sequence": last}
    finally:
        await nc.close()
        await engine.dispose()


def main() -> None:
    json.dump(asyncio.run(rebuild(ConversationsSettings())), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
