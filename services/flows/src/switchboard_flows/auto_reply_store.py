"""Auto-reply rules (one row each, their spec as the API took it) and the auto-replies sent: the
record that enforces each rule's cooldown and the hourly cap per contact. A reply is claimed —
inserted with its deterministic message id — under a per-contact advisory lock, only if the limits
allow it; claiming again with the same id finds it claimed (a redelivery), and it is sent again
(JetStream and the session-pool drop the repeat)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .domain.auto_reply import MAX_PER_HOUR
from .tables import SCHEMA

INSERT = text(f"""
    INSERT INTO {SCHEMA}.auto_replies (rule_id, org_id, spec, active, created_at, updated_at)
    VALUES (:id, :org, CAST(:spec AS jsonb), :active, :at, :at)""")
UPDATE = text(f"""
    UPDATE {SCHEMA}.auto_replies SET spec = CAST(:spec AS jsonb), active = :active, updated_at = :at
    WHERE rule_id = :id AND org_id = :org RETURNING created_at, updated_at""")
DELETE = text(f"DELETE FROM {SCHEMA}.auto_replies WHERE rule_id = :id AND org_id = :org RETURNING rule_id")
ONE = text(f"SELECT rule_id, spec, created_at, updated_at FROM {SCHEMA}.auto_replies WHERE rule_id = :id AND org_id = :org")
PAGE = text(f"""
    SELECT rule_id, spec, created_at, updated_at FROM {SCHEMA}.auto_replies
    WHERE org_id = :org AND (CAST(:after AS uuid) IS NULL OR rule_id > CAST(:after AS uuid))
    ORDER BY rule_id LIMIT :limit""")
ACTIVE = text(f"""
    SELECT rule_id, spec FROM {SCHEMA}.auto_replies WHERE org_id = :org AND active ORDER BY created_at, rule_id""")
LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
MINE = text(f"SELECT 1 FROM {SCHEMA}.auto_reply_sends WHERE message_id = :mid")
LIMITS = text(f"""
    SELECT count(*) FILTER (WHERE sent_at > :hour_ago) AS last_hour,
           count(*) FILTER (WHERE rule_id = :rule AND sent_at > :cooldown_from) AS in_cooldown
    FROM {SCHEMA}.auto_reply_sends WHERE org_id = :org AND contact = :contact AND sent_at > :since""")
CLAIM = text(f"""
    INSERT INTO {SCHEMA}.auto_reply_sends (message_id, org_id, rule_id, contact, inbound_id, sent_at)
    VALUES (:mid, :org, :rule, :contact, :inbound, :at)""")
OWN = text(f"INSERT INTO {SCHEMA}.own_numbers (org_id, phone) VALUES (:org, :phone) ON CONFLICT DO NOTHING")
OWN_NUMBERS = text(f"SELECT phone FROM {SCHEMA}.own_numbers WHERE org_id = :org")


def _row(row) -> dict[str, Any]:
    return {"id": str(row["rule_id"]), **row["spec"], "created_at": row["created_at"], "updated_at": row["updated_at"]}


class AutoReplyStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create(self, rule_id: str, org_id: str, spec: dict[str, Any], at: datetime) -> dict[str, Any]:
        async with self.engine.begin() as conn:
            await conn.execute(INSERT, {"id": rule_id, "org": org_id, "spec": json.dumps(spec),
                                        "active": spec["active"], "at": at})
        return {"id": rule_id, **spec, "created_at": at, "updated_at": at}

    async def update(self, rule_id: str, org_id: str, spec: dict[str, Any], at: datetime) -> dict[str, Any] | None:
        async with self.engine.begin() as conn:
            row = (await conn.execute(UPDATE, {"id": rule_id, "org": org_id, "spec": json.dumps(spec),
                                               "active": spec["active"], "at": at})).mappings().first()
        return None if row is None else {"id": rule_id, **spec, **row}

    async def delete(self, rule_id: str, org_id: str) -> bool:
        async with self.engine.begin() as conn:
            return (await conn.execute(DELETE, {"id": rule_id, "org": org_id})).scalar() is not None

    async def get(self, rule_id: str, org_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(ONE, {"id": rule_id, "org": org_id})).mappings().first()
        return None if row is None else _row(row)

    async def page(self, org_id: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(PAGE, {"org": org_id, "after": after, "limit": limit})).mappings().all()
        return [_row(row) for row in rows]

    async def active(self, org_id: str) -> list[tuple[str, dict[str, Any]]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(ACTIVE, {"org": org_id})).mappings().all()
        return [(str(row["rule_id"]), row["spec"]) for row in rows]

    async def claim(self, message_id: str, org_id: str, rule_id: str, contact: str, inbound_id: str,
                    cooldown_seconds: int, at: datetime) -> bool:
        """Whether this auto-reply goes (claimed now, or by an earlier delivery of the same inbound)."""
        hour_ago, cooldown_from = at - timedelta(hours=1), at - timedelta(seconds=cooldown_seconds)
        async with self.engine.begin() as conn:
            await conn.execute(LOCK, {"key": f"auto-reply:{org_id}:{contact}"})
            if (await conn.execute(MINE, {"mid": message_id})).first() is not None:
                return True
            counts = (await conn.execute(LIMITS, {"org": org_id, "contact": contact, "rule": rule_id,
                                                  "hour_ago": hour_ago, "cooldown_from": cooldown_from,
                                                  "since": min(hour_ago, cooldown_from)})).mappings().one()
            if counts["last_hour"] >= MAX_PER_HOUR or (cooldown_seconds and counts["in_cooldown"]):
                return False
            await conn.execute(CLAIM, {"mid": message_id, "org": org_id, "rule": rule_id, "contact": contact,
                                       "inbound": inbound_id, "at": at})
        return True

    async def note_own_number(self, org_id: str, phone: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(OWN, {"org": org_id, "phone": phone})

    async def own_numbers(self, org_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            return set((await conn.execute(OWN_NUMBERS, {"org": org_id})).scalars())
