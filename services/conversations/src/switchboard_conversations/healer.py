"""Healing a read row a crash left behind. A change saves the aggregate and then writes its read rows
in the transaction that holds the row lock (`lifecycle.py`); a crash between the two leaves the events
stored (and relayed) but the row at the older version. This consumer of the service's own lifecycle
events finds rows older than an event's version and writes them again from the aggregate — its notes
and read marks too. A row already at the version costs one indexed read."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.eventstore import call
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from . import inbox_state
from .application import Changed, ConversationsApp
from .tables import SCHEMA

VERSIONS = text(f"SELECT id, version FROM {SCHEMA}.conversations WHERE id = ANY(CAST(:ids AS text[]))")
LOCK = text(f"SELECT version FROM {SCHEMA}.conversations WHERE id = :id FOR UPDATE")


class Healer:
    def __init__(self, engine: AsyncEngine, app: ConversationsApp):
        self.engine, self.app = engine, app

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        newest: dict[str, int] = {}
        for d in deliveries:
            try:
                ce = d.event()
                version = int(ce.data["version"])
                newest[ce.subject] = max(newest.get(ce.subject, 0), version)
            except (BadMessage, KeyError, TypeError, ValueError) as exc:
                outcome.reject(d, f"not a conversation lifecycle event: {exc}")
        if not newest:
            return outcome
        async with self.engine.connect() as conn:
            behind = [r.id for r in await conn.execute(VERSIONS, {"ids": sorted(newest)}) if r.version < newest[r.id]]
        for cid in behind:  # one row lock at a time, as a change takes it
            async with self.engine.begin() as conn:
                version = (await conn.execute(LOCK, {"id": cid})).scalar_one()
                if version >= newest[cid]:
                    continue
                events = await call(lambda: list(self.app.repository.event_store.get(UUID(cid))))
                conv = await call(self.app.get, UUID(cid))
                if conv is not None:
                    await inbox_state.write(conn, Changed(conv, [e for e in events if e.originator_version > version]))
        return outcome
