"""Claims on outbound messages: a redelivered send command is recognised and never sent twice."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .providers.base import OutboundMessage, SendResult
from .tables import outbound_messages as t


class OutboundStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def claim(self, messages: Sequence[OutboundMessage]) -> set[str]:
        """Claim the messages; returns the ids claimed now (the others were claimed before)."""
        if not messages:
            return set()
        rows = [{"message_id": m.message_id, "org_id": m.org_id, "sender_id": m.sender_id,
                 "recipient": m.to, "state": "claimed"} for m in messages]
        stmt = insert(t).values(rows).on_conflict_do_nothing().returning(t.c.message_id)
        async with self.engine.begin() as conn:
            return {r[0] for r in await conn.execute(stmt)}

    async def finished(self, message_ids: Sequence[str]) -> dict[str, dict]:
        """Outcomes already recorded for these ids (message_id → row)."""
        if not message_ids:
            return {}
        stmt = select(t).where(t.c.message_id.in_(list(message_ids)), t.c.state == "done")
        async with self.engine.connect() as conn:
            return {r.message_id: dict(r._mapping) for r in await conn.execute(stmt)}

    async def record(self, results: Sequence[SendResult]) -> None:
        if not results:
            return
        stmt = (update(t).where(t.c.message_id == bindparam("mid"))
                .values(state="done", status=bindparam("st"), provider_message_id=bindparam("pmid"),
                        error=bindparam("err"), updated_at=func.now()))
        params = [{"mid": r.message_id, "st": "sent" if r.ok else "failed",
                   "pmid": r.provider_message_id,
                   "err": r.error.model_dump() if r.error else None} for r in results]
        async with self.engine.begin() as conn:
            await conn.execute(stmt, params)
