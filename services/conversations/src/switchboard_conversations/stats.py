"""The inbox's statistics over a time range, from the service's own tables: messages by status and
direction with delivery and read rates (by when a message was created), and conversations opened and
resolved with their first-response and resolution times (median, p90) and SLA outcomes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import SCHEMA

MESSAGES = text(f"""
    SELECT direction, status, count(*) AS n FROM {SCHEMA}.conversation_messages
    WHERE org_id = :org AND created_at >= :since AND created_at < :until
      AND (CAST(:sender AS text) IS NULL OR sender_id = :sender)
    GROUP BY direction, status""")
OPENED = text(f"""SELECT count(*) FROM {SCHEMA}.conversations
                  WHERE org_id = :org AND started_at >= :since AND started_at < :until""")
FIRST_RESPONSE = text(f"""
    SELECT count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_reply_at - first_inbound_at)) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_reply_at - first_inbound_at)) AS p90
    FROM {SCHEMA}.conversations
    WHERE org_id = :org AND first_reply_at >= :since AND first_reply_at < :until AND first_inbound_at IS NOT NULL
      AND first_reply_at >= first_inbound_at""")
RESOLUTIONS = text(f"""
    SELECT count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90,
           count(*) FILTER (WHERE sla_policy_id IS NOT NULL AND NOT sla_missed) AS hit,
           count(*) FILTER (WHERE sla_policy_id IS NOT NULL AND sla_missed) AS missed
    FROM {SCHEMA}.conversation_resolutions WHERE org_id = :org AND resolved_at >= :since AND resolved_at < :until""")
DELIVERED = ("delivered", "read")
OUTCOMES = ("sent", "delivered", "read", "failed", "expired")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value) -> float | None:
    return None if value is None else round(float(value), 3)


class Stats:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def messages(self, org_id: str, since: datetime, until: datetime, sender_id: str | None) -> dict:
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(MESSAGES, {"org": org_id, "since": since, "until": until,
                                                      "sender": sender_id}))
        by = {"inbound": {}, "outbound": {}}
        for r in rows:
            by.setdefault(r.direction, {})[r.status] = r.n
        out = by["outbound"]
        finished = sum(out.get(s, 0) for s in OUTCOMES)
        delivered = sum(out.get(s, 0) for s in DELIVERED)
        return {"from": since, "to": until, "sender_id": sender_id,
                "inbound": sum(by["inbound"].values()), "outbound": sum(out.values()),
                "by_status": {"inbound": by["inbound"], "outbound": out},
                "delivery_rate": _rate(delivered, finished), "read_rate": _rate(out.get("read", 0), delivered)}

    async def conversations(self, org_id: str, since: datetime, until: datetime) -> dict:
        params = {"org": org_id, "since": since, "until": until}
        async with self.engine.connect() as conn:
            opened = (await conn.execute(OPENED, params)).scalar_one()
            first = (await conn.execute(FIRST_RESPONSE, params)).first()
            res = (await conn.execute(RESOLUTIONS, params)).first()
        return {"from": since, "to": until, "opened": opened, "resolved": res.n,
                "first_response_seconds": {"count": first.n, "median": _seconds(first.p50), "p90": _seconds(first.p90)},
                "resolution_seconds": {"count": res.n, "median": _seconds(res.p50), "p90": _seconds(res.p90)},
                "sla": {"hit": res.hit, "missed": res.missed}}
