"""The attempts log: every delivery attempt (time, event, HTTP status, latency, error), written in
batches with the positions they advance — one transaction per batch, so an endpoint's position never
runs ahead of its recorded attempts — and read back per endpoint, newest first."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.envelope import utcnow
from switchboard_runtime.http.errors import ApiError

from .tables import SCHEMA

A = f"{SCHEMA}.attempts"


@dataclass
class Attempt:
    endpoint_id: str
    org_id: str
    event_id: str
    event_type: str
    sequence: int
    attempt: int
    trigger: str  # delivery | recover | resend
    status: str  # succeeded | failed
    http_status: int | None
    latency_ms: int
    error: str | None
    at: datetime


def shown(row) -> dict:
    return {"id": str(row.id), "at": row.at, "event_id": row.event_id, "event_type": row.event_type,
            "sequence": row.sequence, "attempt": row.attempt, "trigger": row.trigger, "status": row.status,
            "http_status": row.http_status, "latency_ms": row.latency_ms, "error": row.error}


def _cursor(attempt_id: int) -> str:
    return base64.urlsafe_b64encode(str(attempt_id).encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    try:
        value = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_cursor", "cursor is not one this API issued") from exc
    return value


class AttemptLog:
    """`add` buffers an attempt (and, for one that ends an event of the endpoint's line, its new
    position); a background flush writes them every `interval` or `batch` rows; `flush` writes now."""

    def __init__(self, engine: AsyncEngine, interval: float = 0.05, batch: int = 2000):
        self.engine, self.interval, self.batch = engine, interval, batch
        self.pending: list[Attempt] = []
        self.positions: dict[str, tuple[int, bool]] = {}  # endpoint → (position, line ended on a success)
        self._lock = asyncio.Lock()
        self._full = asyncio.Event()
        self._task: asyncio.Task | None = None

    def add(self, attempt: Attempt, position: int | None = None) -> None:
        self.pending.append(attempt)
        if position is not None:
            self.positions[attempt.endpoint_id] = (position, attempt.status == "succeeded")
        if len(self.pending) >= self.batch:
            self._full.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="attempts flush")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._full.wait(), self.interval)
            except TimeoutError:
                pass
            self._full.clear()
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - kept in the buffer, written at the next flush
                await asyncio.sleep(1.0)

    async def flush(self) -> None:
        async with self._lock:
            rows, positions = self.pending, self.positions
            if not rows and not positions:
                return
            self.pending, self.positions = [], {}
            try:
                await self._write(rows, positions)
            except Exception:
                self.pending[:0] = rows
                for endpoint, value in positions.items():
                    self.positions.setdefault(endpoint, value)
                raise

    async def _write(self, rows: list[Attempt], positions: dict[str, tuple[int, bool]]) -> None:
        async with self.engine.begin() as conn:
            if rows:
                cols = ("endpoint_id", "org_id", "event_id", "event_type", "sequence", "attempt", "trigger", "status",
                        "http_status", "latency_ms", "error", "at")
                types = ("text", "text", "text", "text", "bigint", "int", "text", "text", "int", "int", "text",
                         "timestamptz")
                await conn.execute(text(f"""
                    INSERT INTO {A} ({", ".join(cols)})
                    SELECT * FROM unnest({", ".join(f"CAST(:{c} AS {t}[])" for c, t in zip(cols, types, strict=True))})"""),
                    {c: [getattr(r, c) for r in rows] for c in cols})
            if positions:
                ids = list(positions)
                await conn.execute(text(f"""
                    UPDATE {SCHEMA}.endpoints e
                    SET position = GREATEST(e.position, v.position),
                        head_seq = NULL, head_attempts = 0, head_next_at = NULL,
                        failing_since = CASE WHEN v.ok THEN NULL ELSE e.failing_since END
                    FROM unnest(CAST(:ids AS text[]), CAST(:positions AS bigint[]), CAST(:oks AS boolean[]))
                         AS v(id, position, ok)
                    WHERE e.id = v.id"""),
                    {"ids": ids, "positions": [positions[i][0] for i in ids], "oks": [positions[i][1] for i in ids]})

    # --- reads ------------------------------------------------------------------------------------

    async def page(self, endpoint_id: str, status: str | None, cursor: str | None, limit: int) -> dict:
        sql = f"SELECT * FROM {A} WHERE endpoint_id = :endpoint"
        params: dict = {"endpoint": endpoint_id, "lim": limit + 1}
        if status:
            sql += " AND status = :status"
            params["status"] = status
        if cursor:
            sql += " AND id < :after"
            params["after"] = _after(cursor)
        sql += " ORDER BY id DESC LIMIT :lim"
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(text(sql), params))
        items = [shown(r) for r in rows[:limit]]
        return {"items": items, "next_cursor": _cursor(rows[limit - 1].id) if len(rows) > limit else None}

    async def sequence_of(self, endpoint_id: str, event_id: str) -> int | None:
        """The stream sequence of an event this endpoint was sent (or tried), if it was."""
        async with self.engine.connect() as conn:
            return (await conn.execute(text(f"""SELECT sequence FROM {A} WHERE endpoint_id = :e AND event_id = :id
                                                LIMIT 1"""), {"e": endpoint_id, "id": event_id})).scalar()

    async def forget_older_than(self, days: int) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(text(f"DELETE FROM {A} WHERE at < :before"),
                                        {"before": utcnow() - timedelta(days=days)})
            return result.rowcount
