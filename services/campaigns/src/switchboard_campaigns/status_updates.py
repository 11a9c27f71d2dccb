"""Live campaign statistics from `message.status` (every status naming a message id: the session-pool's
own and the providers' webhooks; a status of a message that is no campaign's matches no row): each
campaign message's status moves forward only
(a late `delivered` never undoes `read`; failed and expired are final), with the time of each step,
the sender that sent it and the provider's error code. One set-based UPDATE per batch."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from uuid import UUID
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.messaging.consumer import BatchOutcome, Delivery

from .tables import SCHEMA

RENAMED = {"played": "read"}
RANK = {"pending": 0, "queued": 1, "sent": 2, "delivered": 3, "read": 4, "failed": 5, "expired": 5,
        "cancelled": 5}
RANK_SQL = "CASE c.status " + " ".join(f"WHEN '{s}' THEN {r}" for s, r in RANK.items()) + " ELSE 0 END"

UPDATE = text(f"""
    UPDATE {SCHEMA}.contacts AS c SET
        status = CASE WHEN u.rank > {RANK_SQL} THEN u.status ELSE c.status END,
        sender_id = coalesce(u.sender, c.sender_id),
        error_code = coalesce(u.code, c.error_code), error_title = coalesce(u.title, c.error_title),
        sent_at = coalesce(c.sent_at, u.sent_at), delivered_at = coalesce(c.delivered_at, u.delivered_at),
        read_at = coalesce(c.read_at, u.read_at), finished_at = coalesce(c.finished_at, u.finished_at)
    FROM unnest(CAST(:mids AS uuid[]), CAST(:statuses AS text[]), CAST(:ranks AS int[]),
                CAST(:senders AS text[]), CAST(:codes AS text[]), CAST(:titles AS text[]),
                CAST(:sent AS timestamptz[]), CAST(:delivered AS timestamptz[]), CAST(:read AS timestamptz[]),
                CAST(:finished AS timestamptz[]))
         AS u(mid, status, rank, sender, code, title, sent_at, delivered_at, read_at, finished_at)
    WHERE c.message_id = u.mid AND (u.rank > {RANK_SQL} OR u.sent_at IS NOT NULL
        OR u.delivered_at IS NOT NULL OR u.read_at IS NOT NULL)
    RETURNING c.campaign_id""")


class _Merged:
    __slots__ = ("status", "rank", "sender", "code", "title", "at")

    def __init__(self) -> None:
        self.status, self.rank, self.sender, self.code, self.title = "queued", 0, None, None, None
        self.at: dict[str, datetime] = {}


class StatusUpdates:
    def __init__(self, engine: AsyncEngine, on_progress: Callable[[set[str]], None] = lambda ids: None):
        self.engine = engine
        self.on_progress = on_progress  # told which campaigns moved (the runner checks completion)

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        merged: dict[str, _Merged] = {}
        for d in deliveries:
            try:  # a light read (every status of every message passes here): json, not the models
                raw = json.loads(d.data)
                data = raw["data"]
                mid, status = data.get("message_id"), RENAMED.get(data["status"], data["status"])
                if not mid or status not in RANK:
                    continue  # a provider status not matched to a message id (WAHA acks), or not one we track
                UUID(mid)
                at = datetime.fromisoformat(data["timestamp"])
                error = data.get("error") or None
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                outcome.reject(d, f"invalid message status: {exc!r}")
                continue
            if status == "failed" and (error or {}).get("code") == "campaign_cancelled":
                status = "cancelled"  # dropped by the session-pool because its campaign was cancelled
            m = merged.setdefault(mid, _Merged())
            if RANK[status] > m.rank:
                m.status, m.rank = status, RANK[status]
            m.sender = m.sender or data.get("sender_id") or None
            if error is not None:
                m.code, m.title = str(error.get("code")), error.get("title")
            kind = {"sent": "sent", "delivered": "delivered", "read": "read"}.get(status, "finished")
            if status != "queued":
                m.at[kind] = min(m.at.get(kind, at), at)
        if merged:
            ids, rows = list(merged), list(merged.values())
            async with self.engine.begin() as conn:
                moved = await conn.execute(UPDATE, {
                    "mids": ids, "statuses": [r.status for r in rows], "ranks": [r.rank for r in rows],
                    "senders": [r.sender for r in rows], "codes": [r.code for r in rows],
                    "titles": [r.title for r in rows], "sent": [r.at.get("sent") for r in rows],
                    "delivered": [r.at.get("delivered") for r in rows], "read": [r.at.get("read") for r in rows],
                    "finished": [r.at.get("finished") for r in rows]})
                campaigns = {str(r[0]) for r in moved}
            self.on_progress(campaigns)
        return outcome
