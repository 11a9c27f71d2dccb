"""Each conversation's SLA, kept in its row: a conversation whose facts changed (an inbound message, a
reply, a lifecycle change, a changed policy: `sla_dirty`) gets the policy that applies now, its pending
deadlines and when something is next due (`sla_next_at`); at that time the warning or the breach is
recorded on the aggregate — once per deadline, its marker kept in the aggregate — with the policy's
escalation. Runs in the inbox's poller (`due.py`), so a breach is recorded within a poll interval of
its time, also after a restart (the row says what is due)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .domain import sla
from .lifecycle import Lifecycle
from .sla_policies import SlaPolicies
from .tables import SCHEMA

C = f"{SCHEMA}.conversations"
FACTS = ("id, org_id, status, priority, tags, waiting_since, first_reply_at, sla_started_at, sla_fired, version, "
         "sla_mark")
# in the order of its partial index (id WHERE sla_dirty), which the planner then reads however stale its
# statistics are: without the order, a table that grew since its last ANALYZE (a campaign's first minute
# creates a conversation per recipient) was scanned whole at every poll to find that none is marked
DIRTY = text(f"SELECT {FACTS} FROM {C} WHERE sla_dirty ORDER BY id LIMIT :n")
DUE = text(f"SELECT {FACTS} FROM {C} WHERE sla_next_at <= :now ORDER BY sla_next_at LIMIT :n")
# written only if the facts it was computed from are still the row's, and no policy changed since it read
# them (`sla_mark`: else the row stays marked and is planned again with the policies as they are now)
PLAN = text(f"""
    UPDATE {C} SET sla_policy_id = :policy, sla_first_response_due = :first, sla_next_response_due = :next,
        sla_resolution_due = :resolution, sla_next_at = :next_at, sla_dirty = false
    WHERE id = :id AND version = :version AND sla_mark = :mark AND waiting_since IS NOT DISTINCT FROM :waiting
      AND first_reply_at IS NOT DISTINCT FROM :first_reply AND sla_started_at IS NOT DISTINCT FROM :started
      AND status = :status AND priority = :priority AND tags = CAST(:tags AS text[])""")


def facts(r) -> sla.Facts:
    return sla.Facts(r.status, r.waiting_since, r.first_reply_at, r.sla_started_at)


class SlaPlanner:
    def __init__(self, engine: AsyncEngine, lifecycle: Lifecycle, policies: SlaPolicies, batch: int = 500):
        self.engine, self.lifecycle, self.policies, self.batch = engine, lifecycle, policies, batch

    async def plan(self) -> int:
        """Recompute the SLA of every conversation marked; returns how many were written."""
        written = 0
        for _ in range(100):  # bounded: what is left waits for the next poll
            async with self.engine.connect() as conn:
                rows = list(await conn.execute(DIRTY, {"n": self.batch}))
            if not rows:
                break
            by_org = await self.policies.of_orgs({r.org_id for r in rows})
            async with self.engine.begin() as conn:
                for r in rows:
                    policy = sla.choose(by_org.get(r.org_id, []), r.priority, list(r.tags))
                    d = sla.deadlines(policy, facts(r)) if policy else sla.Deadlines()
                    next_at = sla.next_check(policy, d, set(r.sla_fired)) if policy else None
                    result = await conn.execute(PLAN, {
                        "id": r.id, "version": r.version, "mark": r.sla_mark, "waiting": r.waiting_since,
                        "first_reply": r.first_reply_at,
                        "started": r.sla_started_at, "status": r.status, "priority": r.priority, "tags": list(r.tags),
                        "policy": policy.id if policy else None, "first": d.first_response, "next": d.next_response,
                        "resolution": d.resolution, "next_at": next_at})
                    written += result.rowcount
            if len(rows) < self.batch:
                break
        return written

    async def fire(self, now: datetime) -> int:
        """Record the warnings and breaches due now; returns how many conversations changed."""
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(DUE, {"now": now, "n": self.batch}))
        if not rows:
            return 0
        by_org = await self.policies.of_orgs({r.org_id for r in rows})
        changed = 0
        for r in rows:
            policy = sla.choose(by_org.get(r.org_id, []), r.priority, list(r.tags))
            due = sla.due_now(policy, sla.deadlines(policy, facts(r)), set(r.sla_fired), now) if policy else []

            def decide(c, policy=policy, due=due):
                for target, kind, at in due:
                    c.sla_due(policy.id, target, kind, at, sla.marker(target, kind, at), now,
                              raise_priority=policy.raise_priority, team_id=policy.escalate_to_team)

            result = await self.lifecycle.change(r.org_id, r.id, decide, lambda row, v=r.version: row.version == v)
            if result is None or not result.events:
                await self._replan(r.id)  # nothing to fire (or it moved on): plan it afresh
            changed += 1 if result is not None and result.events else 0
        return changed

    async def _replan(self, conversation_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(f"UPDATE {C} SET sla_dirty = true WHERE id = :id"), {"id": conversation_id})
