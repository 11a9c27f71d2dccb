"""SLA policies, per organization (`sla_policies`: the definition as the API took it). A change marks
the organization's open conversations for the SLA planner, which recomputes their deadlines."""

from __future__ import annotations

import json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.ids import new_id
from switchboard_runtime.http.pagination import keyset_page

from .domain.sla import BusinessHours, Policy, clock
from .tables import SCHEMA

T = f"{SCHEMA}.sla_policies"
# marked, and the mark counted up: a plan being computed from the policies as they were is not written
DIRTY = text(f"""UPDATE {SCHEMA}.conversations SET sla_dirty = true, sla_mark = sla_mark + 1
                 WHERE org_id = :org AND status NOT IN ('resolved', 'archived')""")


def shape(r) -> dict:
    return {"id": r.id, **r.definition, "created_at": r.created_at, "updated_at": r.updated_at}


def policy(r) -> Policy:
    d = r.definition
    bh = d.get("business_hours")
    hours = None
    if bh:
        hours = BusinessHours(bh["time_zone"], {day: sorted((clock(s["start"]), clock(s["end"])) for s in spans)
                                                for day, spans in bh["hours"].items()})
    esc = d.get("escalation") or {}
    return Policy(r.id, d["name"], d.get("first_response_seconds"), d.get("next_response_seconds"),
                  d.get("resolution_seconds"), hours, d.get("warning_before_seconds"),
                  d.get("applies_to") or {"default": True}, bool(esc.get("raise_priority")), esc.get("team_id"),
                  r.created_at)


class SlaPolicies:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create(self, org_id: str, definition: dict) -> dict:
        async with self.engine.begin() as conn:
            r = (await conn.execute(text(f"INSERT INTO {T} (id, org_id, name, definition) VALUES "
                                         "(:id, :org, :name, CAST(:d AS jsonb)) RETURNING *"),
                                    {"id": new_id(), "org": org_id, "name": definition["name"],
                                     "d": json.dumps(definition)})).first()
            await conn.execute(DIRTY, {"org": org_id})
        return shape(r)

    async def replace(self, org_id: str, policy_id: str, definition: dict) -> dict | None:
        async with self.engine.begin() as conn:
            r = (await conn.execute(text(f"UPDATE {T} SET name = :name, definition = CAST(:d AS jsonb), "
                                         "updated_at = now() WHERE id = :id AND org_id = :org RETURNING *"),
                                    {"id": policy_id, "org": org_id, "name": definition["name"],
                                     "d": json.dumps(definition)})).first()
            if r is not None:
                await conn.execute(DIRTY, {"org": org_id})
        return shape(r) if r else None

    async def delete(self, org_id: str, policy_id: str) -> bool:
        async with self.engine.begin() as conn:
            r = await conn.execute(text(f"DELETE FROM {T} WHERE id = :id AND org_id = :org"),
                                   {"id": policy_id, "org": org_id})
            if r.rowcount:
                await conn.execute(DIRTY, {"org": org_id})
        return r.rowcount > 0

    async def get(self, org_id: str, policy_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(text(f"SELECT * FROM {T} WHERE id = :id AND org_id = :org"),
                                    {"id": policy_id, "org": org_id})).first()
        return shape(r) if r else None

    async def page(self, org_id: str, cursor: str | None, limit: int) -> dict:
        return await keyset_page(self.engine, f"SELECT * FROM {T} WHERE org_id = :org", "ASC", cursor, limit,
                                 "created_at", shape, org=org_id)

    async def of_orgs(self, org_ids: set[str]) -> dict[str, list[Policy]]:
        """Every policy of these organizations (for the planner)."""
        if not org_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(text(f"SELECT * FROM {T} WHERE org_id = ANY(CAST(:orgs AS text[]))"),
                                           {"orgs": sorted(org_ids)}))
        out: dict[str, list[Policy]] = {o: [] for o in org_ids}
        for r in rows:
            out[r.org_id].append(policy(r))
        return out
