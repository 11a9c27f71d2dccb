"""The executions read table: what the API lists, which execution of a contact is active (an inbound
message goes to it), and the claim that keeps one active execution per (flow, contact) — a unique
index, so two replicas (or two messages in one batch) cannot both start one. A row is written from
the aggregate's state after every change, before the input that caused it is acked: a crash in
between is healed by the redelivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .domain.execution import Execution
from .tables import SCHEMA

CLAIM = text(f"""
    INSERT INTO {SCHEMA}.executions (execution_id, org_id, flow_id, revision, contact, sender_id, status, active,
                                     started_at, updated_at)
    VALUES (:id, :org, :flow, :revision, :contact, :sender, 'running', true, :at, :at)
    ON CONFLICT DO NOTHING RETURNING execution_id""")
HOLDER = text(f"""
    SELECT execution_id FROM {SCHEMA}.executions
    WHERE execution_id = :id OR (flow_id = :flow AND contact = :contact AND active)
    ORDER BY execution_id = :id DESC LIMIT 1""")
SYNC = text(f"""
    UPDATE {SCHEMA}.executions SET status = :status, active = :active, node = :node, waiting_for = :waiting_for,
        waiting_until = :until, steps = :steps, reason = :reason, updated_at = :updated, ended_at = :ended
    WHERE execution_id = :id""")
ACTIVE_OF_CONTACT = text(f"""
    SELECT execution_id, flow_id, sender_id, waiting_for FROM {SCHEMA}.executions
    WHERE org_id = :org AND contact = :contact AND active ORDER BY started_at DESC""")
PAGE = text(f"""
    SELECT execution_id, flow_id, revision, contact, sender_id, status, node, waiting_for, waiting_until, steps,
           reason, started_at, updated_at, ended_at
    FROM {SCHEMA}.executions WHERE org_id = :org AND flow_id = :flow
      AND (CAST(:status AS text) IS NULL OR status = :status)
      AND (CAST(:after AS uuid) IS NULL OR execution_id > CAST(:after AS uuid))
    ORDER BY execution_id LIMIT :limit""")
OVERDUE = text(f"""
    SELECT execution_id FROM {SCHEMA}.executions WHERE active AND waiting_until < :before
    ORDER BY waiting_until LIMIT :limit""")
WAITING_ON_MESSAGE = text(f"""
    SELECT count(*) FROM {SCHEMA}.executions WHERE active AND waiting_for = 'message' AND updated_at < :before""")
ACTIVE_OF_FLOW = text(f"SELECT execution_id FROM {SCHEMA}.executions WHERE flow_id = :flow AND active")


class ExecutionIndex:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def claim(self, execution_id: str, org_id: str, flow_id: str, revision: int, contact: str,
                    sender_id: str, at: datetime) -> str | None:
        """The execution that holds (flow, contact): this one (claimed now, or before — a redelivery),
        another active one, or None if the claim lost a race to one that ended since (try again)."""
        async with self.engine.begin() as conn:
            won = (await conn.execute(CLAIM, {"id": execution_id, "org": org_id, "flow": flow_id,
                                              "revision": revision, "contact": contact, "sender": sender_id,
                                              "at": at})).scalar()
            if won is not None:
                return execution_id
            holder = (await conn.execute(HOLDER, {"id": execution_id, "flow": flow_id,
                                                  "contact": contact})).scalar()
        return str(holder) if holder is not None else None

    async def sync(self, ex: Execution, at: datetime) -> None:
        await self.sync_all([ex], at)

    async def sync_all(self, executions: list[Execution], at: datetime) -> None:
        """Each execution's row from its state, in one statement (executemany)."""
        if not executions:
            return
        async with self.engine.begin() as conn:
            await conn.execute(SYNC, [_row(ex, at) for ex in executions])

    async def active_of_contact(self, org_id: str, contact: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(ACTIVE_OF_CONTACT, {"org": org_id, "contact": contact})).mappings().all()
        return [{**row, "execution_id": str(row["execution_id"]), "flow_id": str(row["flow_id"])} for row in rows]

    async def page(self, org_id: str, flow_id: str, status: str | None, after: str | None,
                   limit: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(PAGE, {"org": org_id, "flow": flow_id, "status": status, "after": after,
                                              "limit": limit})).mappings().all()
        return [{**row, "execution_id": str(row["execution_id"]), "flow_id": str(row["flow_id"])} for row in rows]

    async def overdue(self, before: datetime, limit: int) -> list[str]:
        """Active executions whose delay or reply timeout ended before `before`, oldest first."""
        async with self.engine.connect() as conn:
            return [str(r) for r in (await conn.execute(OVERDUE, {"before": before, "limit": limit})).scalars()]

    async def active_of_flow(self, flow_id: str) -> list[str]:
        async with self.engine.connect() as conn:
            return [str(r) for r in (await conn.execute(ACTIVE_OF_FLOW, {"flow": flow_id})).scalars()]

    async def waiting_on_message(self, before: datetime) -> int:
        """How many active executions wait at a `message` node since before `before`."""
        async with self.engine.connect() as conn:
            return (await conn.execute(WAITING_ON_MESSAGE, {"before": before})).scalar_one()


def _row(ex: Execution, at: datetime) -> dict[str, Any]:
    waiting = ex.waiting or {}
    until = waiting.get("until")
    return {"id": str(ex.id), "status": ex.status, "active": ex.active, "node": ex.node,
            "waiting_for": waiting.get("for"), "until": datetime.fromisoformat(until) if until else None,
            "steps": len(ex.steps), "reason": ex.reason, "updated": at, "ended": ex.ended_at}
