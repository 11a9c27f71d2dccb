"""`python -m switchboard_conversations.rebuild`: drop the read tables (messages, pending statuses,
conversations) and build them again from SWITCHBOARD_EVENTS with the same code the live consumer runs.
API sends whose command is still in the outbox (no `message.accepted` yet) are recorded again from it.
Then each conversation's inbox state (status, assignee, tags, …, its notes and read marks) is written
again from its aggregate's events, and its SLA planned afresh. The Conversation aggregates, the outbox
and the directory are not read tables: they stay. What only an API reply knew — which agent sent a
message, when a conversation was first replied to — is not in the events and is not rebuilt."""

from __future__ import annotations

import asyncio
import json
import sys
from uuid import UUID

from sqlalchemy import text

from switchboard_contracts import commands, streams
from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.eventstore import call, postgres_application, stored_versions
from switchboard_runtime.read_model_rebuild import rebuild as rebuild_tables, trusted_event

from . import inbox_state
from .application import Changed, ConversationsApp
from .history import record
from .main import MIGRATIONS
from .records import NewMessage, StatusUpdate, collect
from .sends import queued
from .settings import ConversationsSettings
from .tables import READ_MODEL_TABLES, SCHEMA

OUTBOX = text(f"SELECT payload FROM {SCHEMA}.command_outbox ORDER BY seq")
IDS = text(f"SELECT id FROM {SCHEMA}.conversations WHERE id > :after ORDER BY id LIMIT :n")


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


def _histories(app: ConversationsApp, ids: list[str]) -> list[Changed]:
    """The conversations among `ids` with a lifecycle beyond `started` (a row's `version` counts from its
    first change), with their events; one query finds which (most campaign conversations have none)."""
    out = []
    versions = stored_versions(app, [UUID(cid) for cid in ids])
    for cid in ids:
        if versions.get(UUID(cid), 0) > 1:
            events = list(app.repository.event_store.get(UUID(cid)))
            out.append(Changed(app.repository.get(UUID(cid)), events))
    return out


async def _lifecycle(engine, settings: ConversationsSettings, batch: int = 5000) -> dict:
    app = postgres_application(ConversationsApp, settings.database(), SCHEMA)
    restored, after = 0, ""
    while True:
        async with engine.connect() as conn:
            ids = [r.id for r in await conn.execute(IDS, {"after": after, "n": batch})]
        if not ids:
            return {"conversations_restored": restored}
        changes = await call(_histories, app, ids)
        async with engine.begin() as conn:
            for changed in changes:
                await inbox_state.write(conn, changed)
        restored, after = restored + len(changes), ids[-1]


async def rebuild(settings: ConversationsSettings, batch: int = 5000) -> dict:
    async def after(engine) -> dict:
        return {**await _from_outbox(engine), **await _lifecycle(engine, settings)}

    return await rebuild_tables(settings, MIGRATIONS, SCHEMA, READ_MODEL_TABLES, streams.CONVERSATIONS_HISTORY,
                                _apply, batch, after=after, parse=trusted_event)  # `collect` validates `data`


def main() -> None:
    json.dump(asyncio.run(rebuild(ConversationsSettings())), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
