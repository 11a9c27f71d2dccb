"""The flows read tables: `flows` (one row per flow: its draft, whether it is active, its newest
revision) and `revisions` (each published definition), written right after the aggregate changes,
before the API answers (a client reads its own writes). The triggers of active flows are read from
here by the trigger directory (trigger_directory.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .domain.flow import Flow
from .tables import SCHEMA

UPSERT = text(f"""
    INSERT INTO {SCHEMA}.flows (flow_id, org_id, name, active, priority, revision, trigger, draft, created_at,
                                updated_at)
    VALUES (:id, :org, :name, :active, :priority, :revision, CAST(:trigger AS jsonb), CAST(:draft AS jsonb),
            :created, :updated)
    ON CONFLICT (flow_id) DO UPDATE SET name = EXCLUDED.name, active = EXCLUDED.active,
        priority = EXCLUDED.priority, revision = EXCLUDED.revision, trigger = EXCLUDED.trigger,
        draft = EXCLUDED.draft, updated_at = EXCLUDED.updated_at""")
REVISION = text(f"""
    INSERT INTO {SCHEMA}.revisions (flow_id, revision, definition, published_at)
    VALUES (:id, :revision, CAST(:definition AS jsonb), :at) ON CONFLICT DO NOTHING""")
DELETE = text(f"DELETE FROM {SCHEMA}.flows WHERE flow_id = :id")
LIST = text(f"""
    SELECT flow_id, name, active, priority, revision, trigger, created_at, updated_at FROM {SCHEMA}.flows
    WHERE org_id = :org AND (CAST(:after AS uuid) IS NULL OR flow_id > CAST(:after AS uuid))
    ORDER BY flow_id LIMIT :limit""")
REVISIONS = text(f"""
    SELECT r.revision, r.definition, r.published_at FROM {SCHEMA}.revisions r JOIN {SCHEMA}.flows f USING (flow_id)
    WHERE flow_id = :id AND f.org_id = :org ORDER BY r.revision""")
ONE_REVISION = text(f"SELECT definition FROM {SCHEMA}.revisions WHERE flow_id = :id AND revision = :revision")
ACTIVE = text(f"""
    SELECT f.flow_id, f.priority, f.revision, f.created_at, r.definition FROM {SCHEMA}.flows f
    JOIN {SCHEMA}.revisions r ON r.flow_id = f.flow_id AND r.revision = f.revision
    WHERE f.org_id = :org AND f.active""")
EVENT_TYPES = text(f"""
    SELECT DISTINCT trigger->>'event_type' FROM {SCHEMA}.flows
    WHERE active AND trigger->>'type' = 'event' AND trigger->>'event_type' IS NOT NULL""")


class FlowStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def record(self, flow: Flow) -> None:
        """The flow as it is now (a deleted one leaves the table; its revisions stay with its events)."""
        flow_id = str(flow.id)
        async with self.engine.begin() as conn:
            if flow.deleted:
                await conn.execute(DELETE, {"id": flow_id})
                return
            await conn.execute(UPSERT, {
                "id": flow_id, "org": flow.org_id, "name": flow.name, "active": flow.active,
                "priority": int(_current(flow).get("priority") or 0),
                "revision": flow.revision, "trigger": json.dumps(_current(flow).get("trigger") or {}),
                "draft": json.dumps(flow.draft), "created": flow.created_at, "updated": flow.updated_at})
            for number, (definition, at) in enumerate(zip(flow.revisions, flow.published_at, strict=True), 1):
                if number == len(flow.revisions):  # earlier ones are there already (written when published)
                    await conn.execute(REVISION, {"id": flow_id, "revision": number,
                                                  "definition": json.dumps(definition), "at": at})

    async def page(self, org_id: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(LIST, {"org": org_id, "after": after, "limit": limit})).mappings().all()
        return [{**row, "flow_id": str(row["flow_id"])} for row in rows]

    async def revisions(self, org_id: str, flow_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(REVISIONS, {"id": flow_id, "org": org_id})).mappings().all()
        return [dict(row) for row in rows]

    async def revision(self, flow_id: str, revision: int) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(ONE_REVISION, {"id": flow_id, "revision": revision})).scalar()

    async def event_types(self) -> set[str]:
        """Every event type an active flow (of any organization) is triggered by."""
        async with self.engine.connect() as conn:
            return set((await conn.execute(EVENT_TYPES)).scalars())

    async def active(self, org_id: str) -> list[dict[str, Any]]:
        """The org's active flows with their newest revision's definition."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(ACTIVE, {"org": org_id})).mappings().all()
        return [{**row, "flow_id": str(row["flow_id"])} for row in rows]


def _current(flow: Flow) -> dict[str, Any]:
    """The definition that starts executions: the newest revision (the draft before any publish)."""
    return flow.revisions[-1] if flow.revisions else flow.draft
