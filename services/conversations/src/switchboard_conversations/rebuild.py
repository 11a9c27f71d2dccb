"""`python -m switchboard_conversations.rebuild`: drop the read tables (messages, pending statuses,
conversations) and build them again from SWITCHBOARD_EVENTS with the same code the live consumer runs.
API sends whose command is still in the outbox (no `message.accepted` yet) are recorded again from it.
The Conversation aggregates and the outbox itself are not read tables: they stay."""

from __future__ import annotations

import asyncio
import json
import sys

from sqlalchemy import text

from switchboard_contracts import commands, streams
from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.read_model_rebuild import rebuild as rebuild_tables

from .history import record
from .main import MIGRATIONS
from .records import NewMessage, StatusUpdate, collect
from .sends import queued
from .settings import ConversationsSettings
from .tables import READ_MODEL_TABLES, SCHEMA

OUTBOX = text(f"SELECT payload FROM {SCHEMA}.command_outbox ORDER BY seq")


async def _apply(engine, events: list[CloudEvent]) -> None:
    messages: dict[str, NewMessage] = {}
    statuses: list[StatusUpdate] = []
    for ce in events:
        try:
            collect(ce, messages, statuses)
        except ValueError:
            continue  # not a message event this service understands: the live consumer dead-letters it
    async with engine.begin() as conn:
        await record(conn, list(messages.values()), statuses)


async def _from_outbox(engine) -> dict:
    async with engine.begin() as conn:
        waiting = [queued(ce.orgid, commands.SendMessage.model_validate(ce.data))
                   for ce in (CloudEvent.from_json_bytes(bytes(r.payload)) for r in await conn.execute(OUTBOX))]
        await record(conn, waiting, [])
    return {"from_outbox": len(waiting)}


async def rebuild(settings: ConversationsSettings, batch: int = 2000) -> dict:
    return await rebuild_tables(settings, MIGRATIONS, SCHEMA, READ_MODEL_TABLES, streams.CONVERSATIONS_HISTORY,
                                _apply, batch, after=_from_outbox)


def main() -> None:
    json.dump(asyncio.run(rebuild(ConversationsSettings())), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
