"""The record of every contact import (a campaign's or a broadcast list's) with its progress, in
`campaigns.imports`. It is written outside the import's own transaction (which commits only at the
end, all or nothing), so anyone may follow an import while it runs: rows and bytes read, contacts
accepted so far, and the share of the body read when its size is known."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.ids import new_id
from switchboard_runtime.logs import get_logger

from .domain.contacts import ImportReport
from .tables import SCHEMA

log = get_logger(__name__)

BEGIN = text(f"""INSERT INTO {SCHEMA}.imports (import_id, org_id, target, target_id, status, content_type, bytes_total)
                 VALUES (:id, :org, :target, :tid, 'importing', :ctype, :total)""")
PROGRESS = text(f"""UPDATE {SCHEMA}.imports SET bytes_read = :bytes, rows_read = :rows, accepted = :accepted,
                    duplicates = :duplicates, rejected = :rejected, updated_at = now()
                    WHERE import_id = :id AND status = 'importing'""")
FINISH = text(f"""UPDATE {SCHEMA}.imports SET status = :status, bytes_read = :bytes, rows_read = :rows,
                  accepted = :accepted, duplicates = :duplicates, rejected = :rejected, error = :error,
                  updated_at = now(), finished_at = now() WHERE import_id = :id""")
LIST = text(f"""SELECT * FROM {SCHEMA}.imports WHERE org_id = :org AND target_id = CAST(:tid AS uuid)
                ORDER BY started_at DESC LIMIT :lim""")

PROGRESS_EVERY = 1.0  # seconds between two progress writes of one import
STALE_AFTER = timedelta(minutes=5)  # an import that has not moved for this long was cut off (a crash)


class ImportLog:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def begin(self, org_id: str, target: str, target_id: str, content_type: str,
                    bytes_total: int | None) -> Progress:
        import_id = new_id()
        async with self.engine.begin() as conn:
            await conn.execute(BEGIN, {"id": import_id, "org": org_id, "target": target, "tid": target_id,
                                       "ctype": content_type, "total": bytes_total})
        return Progress(self.engine, import_id)

    async def recent(self, org_id: str, target_id: str, limit: int = 20) -> list[dict]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(LIST, {"org": org_id, "tid": target_id, "lim": limit})
            return [view(dict(r._mapping), datetime.now(UTC)) for r in rows]


def view(row: dict, now: datetime) -> dict:
    status, error = row["status"], row["error"]
    if status == "importing" and now - row["updated_at"] > STALE_AFTER:
        status, error = "failed", "interrupted: the import stopped before it finished; nothing of it was kept"
    total = row["bytes_total"]
    return {"id": str(row["import_id"]), "status": status, "content_type": row["content_type"],
            "rows_read": row["rows_read"], "bytes_read": row["bytes_read"], "bytes_total": total,
            "percent": round(min(100.0, 100 * row["bytes_read"] / total), 1) if total else None,
            "accepted": row["accepted"], "duplicates": row["duplicates"], "rejected": row["rejected"],
            "error": error, "started_at": row["started_at"], "updated_at": row["updated_at"],
            "finished_at": row["finished_at"]}


class Progress:
    """One import's progress: `tick` as the body arrives and after each stored batch (written at most
    once a second), then `done` or `failed`."""

    def __init__(self, engine: AsyncEngine, import_id: str):
        self.engine, self.id = engine, import_id
        self._last = time.monotonic()

    def _figures(self, report: ImportReport, accepted: int, duplicates: int) -> dict:
        return {"id": self.id, "bytes": report.bytes_read, "rows": report.rows_seen, "accepted": accepted,
                "duplicates": duplicates, "rejected": report.rejected_count}

    async def tick(self, report: ImportReport, accepted: int, duplicates: int) -> None:
        if time.monotonic() - self._last < PROGRESS_EVERY:
            return
        self._last = time.monotonic()
        async with self.engine.begin() as conn:
            await conn.execute(PROGRESS, self._figures(report, accepted, duplicates))

    async def done(self, report: ImportReport, accepted: int, duplicates: int) -> None:
        await self._finish("done", None, self._figures(report, accepted, duplicates))

    async def failed(self, report: ImportReport, error: str) -> None:
        """Recorded as well as it can be: a failure to record it never hides the import's own error."""
        try:
            await self._finish("failed", error[:500], self._figures(report, 0, 0))
        except Exception as exc:  # noqa: BLE001 - the database is away: the import reads as stale later
            log.warning("import failure not recorded", import_id=self.id, error=repr(exc))

    async def _finish(self, status: str, error: str | None, figures: dict) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(FINISH, {**figures, "status": status, "error": error})
