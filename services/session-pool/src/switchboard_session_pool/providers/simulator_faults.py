"""Faults a simulator sender was told to show (`POST /v1/senders/{id}/simulate`), kept in
`session_pool.simulator_faults` so every replica sees them: provider error codes its next sends
answer (in turn), a latency per send, connection attempts to refuse, and a pending pairing QR."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts.commands import SimulateSender
from switchboard_contracts.message import StatusError

from ..tables import SCHEMA

T = f"{SCHEMA}.simulator_faults"
TITLES = {  # Meta's titles for the codes tests and demos use most
    130429: "Rate limit hit", 131026: "Message undeliverable", 131031: "Account has been locked",
    131047: "Re-engagement message", 131048: "Spam rate limit hit", 131056: "Pair rate limit hit",
    131049: "Meta chose not to deliver", 368: "Temporarily blocked for policies violations",
    4: "Application request limit reached", 80007: "Rate limit issues", 132001: "Template does not exist",
}

SET = text(f"""
    INSERT INTO {T} (sender_id, error_codes, latency_ms, refuse_reconnects, qr)
    VALUES (:s, CAST(:codes AS jsonb), :latency, :refuse, :qr)
    ON CONFLICT (sender_id) DO UPDATE SET
        error_codes = {T}.error_codes || excluded.error_codes,
        latency_ms = COALESCE(:latency_set, {T}.latency_ms),
        refuse_reconnects = GREATEST({T}.refuse_reconnects, excluded.refuse_reconnects),
        qr = CASE WHEN :clear_qr THEN NULL ELSE COALESCE(excluded.qr, {T}.qr) END,
        updated_at = now()""")
TAKE_CODES = text(f"""
    SELECT sender_id, error_codes FROM {T}
    WHERE sender_id = ANY(CAST(:ids AS text[])) AND jsonb_array_length(error_codes) > 0 FOR UPDATE""")
KEEP_CODES = text(f"UPDATE {T} SET error_codes = CAST(:codes AS jsonb) WHERE sender_id = :s")
SLOW = text(f"SELECT sender_id, latency_ms FROM {T} WHERE latency_ms > 0")
REFUSE = text(f"""
    UPDATE {T} SET refuse_reconnects = refuse_reconnects - 1
    WHERE sender_id = :s AND refuse_reconnects > 0 RETURNING refuse_reconnects""")
QR = text(f"SELECT qr FROM {T} WHERE sender_id = :s")


def fault_error(code: int | str) -> StatusError:
    try:
        title = TITLES.get(int(code), f"Simulated provider error {code}")
    except (TypeError, ValueError):
        title = f"Simulated provider error {code}"
    return StatusError(code=code, title=title, detail="Injected with POST /v1/senders/{id}/simulate.")


@dataclass
class SimulatorFaults:
    engine: AsyncEngine
    refresh_seconds: float = 1.0

    def __post_init__(self) -> None:
        self.latency: dict[str, float] = {}  # sender id → seconds per send (refreshed every second)
        self._task: asyncio.Task | None = None

    async def apply(self, cmd: SimulateSender) -> str | None:
        """Record the faults; returns the QR issued, if one was asked for."""
        qr = f"2@{secrets.token_urlsafe(48)},{secrets.token_urlsafe(32)},SIMULATED" if cmd.issue_qr else None
        async with self.engine.begin() as conn:
            await conn.execute(SET, {"s": cmd.sender_id, "codes": json.dumps(cmd.error_codes),
                                     "latency": cmd.latency_ms or 0, "latency_set": cmd.latency_ms,
                                     "refuse": cmd.refuse_reconnects, "qr": qr, "clear_qr": cmd.scan_qr})
        if cmd.latency_ms is not None:
            self.latency[cmd.sender_id] = cmd.latency_ms / 1000
            if not cmd.latency_ms:
                self.latency.pop(cmd.sender_id, None)
        return qr

    async def take_codes(self, conn: AsyncConnection, counts: dict[str, int]) -> dict[str, list]:
        """Pop up to counts[sender] injected codes per sender (inside the caller's transaction)."""
        out: dict[str, list] = {}
        for row in await conn.execute(TAKE_CODES, {"ids": list(counts)}):
            codes = list(row.error_codes)
            out[row.sender_id], rest = codes[:counts[row.sender_id]], codes[counts[row.sender_id]:]
            await conn.execute(KEEP_CODES, {"s": row.sender_id, "codes": json.dumps(rest)})
        return out

    async def refuse_connection(self, sender_id: str) -> bool:
        async with self.engine.begin() as conn:
            return (await conn.execute(REFUSE, {"s": sender_id})).first() is not None

    async def qr(self, sender_id: str) -> str | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(QR, {"s": sender_id})).scalar_one_or_none()

    async def _refresh(self) -> None:
        while True:
            try:
                async with self.engine.connect() as conn:
                    self.latency = {r.sender_id: r.latency_ms / 1000 for r in await conn.execute(SLOW)}
            except Exception:  # noqa: BLE001 - the database is away for a moment: keep the last view
                pass
            await asyncio.sleep(self.refresh_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._refresh(), name="simulator-faults")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
