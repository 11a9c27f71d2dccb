"""The inbox's timers, kept in the conversations' own rows: SLA warnings and breaches (`sla_planner.py`),
a snooze's end (`snoozed_until`), the
archive of a conversation resolved for SWITCHBOARD_ARCHIVE_AFTER_DAYS (`resolved_at`), and the
auto-resolve of an open one without activity for its organization's time (`last_message_at`, when the
organization turned it on). A poller finds what is due with indexed queries every
SWITCHBOARD_INBOX_DUE_POLL_SECONDS and changes it through the lifecycle.

Why rows and not JetStream schedules (the flows service's timers): these times are written in the
same transaction as the state they derive from — no schedule can be lost between a commit and a
publish — and the auto-resolve time moves with every message, where a schedule per message would put a
publish in the path of every campaign message. Each happens once, also across restarts and replicas:
the change takes the row lock and checks again that it is still due, and the aggregate's decision is a
no-op for a conversation that moved on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.background import Drain

from .lifecycle import Lifecycle
from .sla_planner import SlaPlanner
from .tables import SCHEMA

C = f"{SCHEMA}.conversations"
SNOOZES = text(f"""SELECT id, org_id, snoozed_until FROM {C}
                   WHERE status = 'snoozed' AND snoozed_until <= :now ORDER BY snoozed_until LIMIT :n""")
ARCHIVES = text(f"""SELECT id, org_id, resolved_at FROM {C}
                    WHERE status = 'resolved' AND resolved_at <= :before ORDER BY resolved_at LIMIT :n""")
IDLE = text(f"""SELECT c.id, c.org_id, s.auto_resolve_after_seconds AS after FROM {SCHEMA}.inbox_settings s
                JOIN {C} c ON c.org_id = s.org_id AND c.status = 'open'
                 AND c.last_message_at <= CAST(:now AS timestamptz) - make_interval(secs => s.auto_resolve_after_seconds)
                WHERE s.auto_resolve ORDER BY c.last_message_at LIMIT :n""")


class DueChanges:
    def __init__(self, engine: AsyncEngine, lifecycle: Lifecycle, archive_after: timedelta, sla: SlaPlanner,
                 poll_interval: float = 1.0, batch: int = 500):
        self.engine, self.lifecycle, self.archive_after, self.batch = engine, lifecycle, archive_after, batch
        self.sla = sla
        self.task = Drain("inbox-due-changes", self.run_due, poll_interval)
        self.start, self.stop = self.task.start, self.task.stop

    async def run_due(self, now: datetime | None = None) -> int:
        """Make every change that is due now; returns how many conversations changed."""
        now = now or datetime.now(UTC)
        await self.sla.plan()
        changed = await self.sla.fire(now)
        async with self.engine.connect() as conn:
            snoozes = list(await conn.execute(SNOOZES, {"now": now, "n": self.batch}))
            archives = list(await conn.execute(ARCHIVES, {"before": now - self.archive_after, "n": self.batch}))
            idle = list(await conn.execute(IDLE, {"now": now, "n": self.batch}))
        for r in snoozes:
            changed += await self._change(r, lambda c, until=r.snoozed_until: c.snooze_ended(until, now),
                                          lambda row, until=r.snoozed_until: row.snoozed_until == until)
        for r in archives:
            changed += await self._change(r, lambda c, at=r.resolved_at: c.auto_archive(at, now),
                                          lambda row, at=r.resolved_at: row.resolved_at == at)
        for r in idle:
            limit = now - timedelta(seconds=r.after)
            changed += await self._change(r, lambda c: c.auto_resolve(now),
                                          lambda row, limit=limit: row.status == "open" and row.last_message_at <= limit)
        return changed

    async def _change(self, r, decide, still) -> int:
        result = await self.lifecycle.change(r.org_id, r.id, decide, still)
        return 1 if result is not None and result.events else 0
