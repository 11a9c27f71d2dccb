"""Recover and resend jobs: `recover` re-sends what an endpoint should have received in a time range (its
organization's events matching its filters, exact from the stream); `resend` one event again. A job keeps
its cursor (the last sequence done), so one a restart interrupted goes on where it was."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.envelope import utcnow

from .tables import SCHEMA

J = f"{SCHEMA}.jobs"
COLUMNS = ("id, endpoint_id, org_id, kind, since, until, sequence, cursor, status, delivered, failed, error, "
           "created_at, finished_at")


def shown(row) -> dict:
    return {"id": row.id, "endpoint_id": row.endpoint_id, "kind": row.kind, "since": row.since, "until": row.until,
            "sequence": row.sequence, "status": row.status, "delivered": row.delivered, "failed": row.failed,
            "error": row.error, "created_at": row.created_at, "finished_at": row.finished_at}


class JobStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create(self, endpoint_id: str, org: str, kind: str, *, since: datetime | None = None,
                     until: datetime | None = None, sequence: int | None = None) -> dict:
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(text(f"""
                INSERT INTO {J} (id, endpoint_id, org_id, kind, since, until, sequence, status, created_at)
                VALUES (:id, :endpoint, :org, :kind, :since, :until, :sequence, 'queued', :now)
                RETURNING {COLUMNS}"""), {"id": str(uuid.uuid4()), "endpoint": endpoint_id, "org": org, "kind": kind,
                                          "since": since, "until": until or (now if kind == "recover" else None),
                                          "sequence": sequence, "now": now})).one()
        return shown(row)

    async def page(self, endpoint_id: str, limit: int = 50) -> list[dict]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text(f"""SELECT {COLUMNS} FROM {J} WHERE endpoint_id = :e
                                               ORDER BY created_at DESC, id LIMIT :n"""), {"e": endpoint_id, "n": limit})
            return [shown(r) for r in rows]

    async def open_jobs(self, endpoint_ids: list[str]):
        if not endpoint_ids:
            return []
        async with self.engine.connect() as conn:
            return list(await conn.execute(text(f"""
                SELECT {COLUMNS} FROM {J} WHERE status IN ('queued', 'running')
                AND endpoint_id = ANY(CAST(:ids AS text[])) ORDER BY created_at, id"""), {"ids": endpoint_ids}))

    async def progress(self, job_id: str, *, cursor: int, delivered: int, failed: int,
                       status: str = "running", error: str | None = None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(f"""
                UPDATE {J} SET cursor = :cursor, delivered = :delivered, failed = :failed, status = :status,
                               error = :error,
                               finished_at = CASE WHEN :status IN ('done', 'failed') THEN now() ELSE NULL END
                WHERE id = :id"""), {"id": job_id, "cursor": cursor, "delivered": delivered, "failed": failed,
                                     "status": status, "error": error})
