"""The organization's blocklist as the flows service knows it, kept from `blocklist.added|removed`
events (the campaigns service owns it; no service reads another's tables): a flow's message to a
blocklisted contact takes its `failed` exit, and no auto-reply goes to one. The newest change of a
number wins, whatever order the events arrive in."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import blocklist as contract
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from .tables import SCHEMA

CHANGE = text(f"""
    INSERT INTO {SCHEMA}.blocklist (org_id, phone, blocked, changed_at) VALUES (:org, :phone, :blocked, :at)
    ON CONFLICT (org_id, phone) DO UPDATE SET blocked = EXCLUDED.blocked, changed_at = EXCLUDED.changed_at
    WHERE {SCHEMA}.blocklist.changed_at <= EXCLUDED.changed_at""")
BLOCKED = text(f"SELECT blocked FROM {SCHEMA}.blocklist WHERE org_id = :org AND phone = :phone")


class Blocklist:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        rows = []
        for d in deliveries:
            try:
                ce = d.event()
                change = contract.BlocklistChanged.model_validate(ce.data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"not a blocklist event: {exc}")
                continue
            rows.append({"org": ce.orgid, "phone": change.phone, "blocked": ce.type == contract.ADDED,
                         "at": change.at})
        if rows:
            async with self.engine.begin() as conn:
                await conn.execute(CHANGE, rows)
        return outcome

    async def blocked(self, org_id: str, phone: str) -> bool:
        async with self.engine.connect() as conn:
            return bool((await conn.execute(BLOCKED, {"org": org_id, "phone": phone})).scalar())
