"""Notification rules: which ERP event (`order.shipped`) sends which template, in the language of the
event's locale, with values read from the event, through which sender; optionally only when a
condition holds. Several rules may name one event: the first (oldest) whose condition holds is used."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.ids import new_id
from switchboard_runtime.http.pagination import keyset_page

from .tables import SCHEMA

T = f"{SCHEMA}.notification_rules"
COLUMNS = ("event", "template", "parameters", "sender_id", "sender_pool", "condition", "stage", "enabled")
JSON = ("template", "parameters", "condition")


def shape(r) -> dict:
    return {"id": r.id, **{c: getattr(r, c) for c in COLUMNS}, "created_at": r.created_at, "updated_at": r.updated_at}


def _params(rule: dict) -> dict:
    return {c: json.dumps(rule.get(c)) if c in JSON and rule.get(c) is not None else rule.get(c) for c in COLUMNS}


class NotificationRules:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create(self, org_id: str, rule: dict) -> dict:
        async with self.engine.begin() as conn:
            r = (await conn.execute(text(
                f"INSERT INTO {T} (id, org_id, event, template, parameters, sender_id, sender_pool, condition, stage, "
                "enabled) VALUES (:id, :org, :event, CAST(:template AS jsonb), CAST(:parameters AS jsonb), :sender_id, "
                ":sender_pool, CAST(:condition AS jsonb), :stage, :enabled) RETURNING *"),
                {"id": new_id(), "org": org_id, **_params(rule)})).first()
        return shape(r)

    async def replace(self, org_id: str, rule_id: str, rule: dict) -> dict | None:
        async with self.engine.begin() as conn:
            r = (await conn.execute(text(
                f"UPDATE {T} SET event = :event, template = CAST(:template AS jsonb), parameters = CAST(:parameters "
                "AS jsonb), sender_id = :sender_id, sender_pool = :sender_pool, condition = CAST(:condition AS jsonb), "
                "stage = :stage, enabled = :enabled, updated_at = now() WHERE id = :id AND org_id = :org RETURNING *"),
                {"id": rule_id, "org": org_id, **_params(rule)})).first()
        return shape(r) if r else None

    async def get(self, org_id: str, rule_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(text(f"SELECT * FROM {T} WHERE id = :id AND org_id = :org"),
                                    {"id": rule_id, "org": org_id})).first()
        return shape(r) if r else None

    async def page(self, org_id: str, cursor: str | None, limit: int, event: str | None = None) -> dict:
        where = " AND event = :event" if event else ""
        return await keyset_page(self.engine, f"SELECT * FROM {T} WHERE org_id = :org{where}", "ASC", cursor, limit,
                                 "created_at", shape, org=org_id, **({"event": event} if event else {}))

    async def delete(self, org_id: str, rule_id: str) -> bool:
        async with self.engine.begin() as conn:
            r = await conn.execute(text(f"DELETE FROM {T} WHERE id = :id AND org_id = :org"),
                                   {"id": rule_id, "org": org_id})
        return r.rowcount > 0

    async def for_events(self, conn, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], list]:
        """The enabled rules of each (organization, event), oldest first."""
        if not wanted:
            return {}
        pairs = sorted(wanted)
        out: dict[tuple[str, str], list] = {}
        for r in await conn.execute(text(
                f"SELECT r.* FROM {T} r JOIN unnest(CAST(:orgs AS text[]), CAST(:events AS text[])) AS u(o, e) "
                "ON r.org_id = u.o AND r.event = u.e WHERE r.enabled ORDER BY r.created_at, r.id"),
                {"orgs": [p[0] for p in pairs], "events": [p[1] for p in pairs]}):
            out.setdefault((r.org_id, r.event), []).append(r)
        return out
