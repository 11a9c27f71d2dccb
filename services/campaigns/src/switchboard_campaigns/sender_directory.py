"""What the campaigns service knows of senders, from `sender.*` events (`campaigns__senders`): which
exist in each organization, their provider and WhatsApp Business Account (`waba_id`, Meta's), labels,
state and quotas — to refuse starting a campaign that has no sender, to pace a campaign to the quota
its senders actually have, and to know which account's templates a campaign sends."""

from __future__ import annotations

import json

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import sender
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from .tables import SCHEMA

T = f"{SCHEMA}.senders"
REGISTER = text(f"""
    INSERT INTO {T} (sender_id, org_id, status, labels, quotas, provider, waba_id) VALUES (:id, :org, 'registered',
        CAST(:labels AS jsonb), CAST(:quotas AS jsonb), :provider, :waba)
    ON CONFLICT (sender_id) DO UPDATE SET labels = excluded.labels, quotas = excluded.quotas,
        provider = excluded.provider, waba_id = excluded.waba_id""")
# a sender's account only (the templates projection, which replays `sender.registered` from the stream's
# start: senders the directory learnt of before it kept their provider get it)
ACCOUNT = text(f"UPDATE {T} SET provider = :provider, waba_id = :waba WHERE sender_id = :id")
UPDATE = text(f"""UPDATE {T} SET labels = coalesce(CAST(:labels AS jsonb), labels),
                  quotas = coalesce(CAST(:quotas AS jsonb), quotas) WHERE sender_id = :id""")
STATUS = text(f"UPDATE {T} SET status = :status WHERE sender_id = :id AND status <> 'removed'")
PAUSE = text(f"UPDATE {T} SET paused = :paused WHERE sender_id = :id")
OF_CAMPAIGN = text(f"""
    SELECT sender_id, status, paused, quotas FROM {T}
    WHERE org_id = :org AND status <> 'removed'
      AND (sender_id = ANY(CAST(:ids AS text[]))
           OR (CAST(:label AS text) IS NOT NULL AND labels @> jsonb_build_array(CAST(:label AS text))))""")
STATUSES = {sender.CONNECTED: "connected", sender.DISCONNECTED: "disconnected", sender.BANNED: "banned",
            sender.REMOVED: "removed", sender.CONNECTING: "connecting", sender.QR_ISSUED: "qr_issued"}


def per_minute(quotas: dict | None) -> float | None:
    """A sender's sustained messages per minute under its quotas; None when unlimited."""
    q = quotas or {}
    rates = [v / m for k, m in (("per_minute", 1), ("per_hour", 60), ("per_day", 1440)) if (v := q.get(k))]
    return min(rates) if rates else None


def account_of(s: sender.SenderRegistered) -> dict:
    """The statement parameters naming a sender's provider and (Meta) business account."""
    return {"provider": s.provider.value, "waba": s.waba_id if s.provider == sender.Provider.META_CLOUD else None}


class SenderDirectory:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        async with self.engine.begin() as conn:
            for d in deliveries:
                try:
                    ce = d.event()
                    data = ce.data
                    if ce.type == sender.REGISTERED:
                        s = sender.SenderRegistered.model_validate(data)
                        await conn.execute(REGISTER, {"id": s.sender_id, "org": ce.orgid, "labels": json.dumps(s.labels),
                                                      "quotas": s.quotas.model_dump_json(), **account_of(s)})
                    elif ce.type == sender.UPDATED:
                        s = sender.SenderUpdated.model_validate(data)
                        await conn.execute(UPDATE, {"id": s.sender_id,
                                                    "labels": json.dumps(s.labels) if s.labels is not None else None,
                                                    "quotas": s.quotas.model_dump_json() if s.quotas else None})
                    elif ce.type in STATUSES:
                        await conn.execute(STATUS, {"id": data["sender_id"], "status": STATUSES[ce.type]})
                    elif ce.type in (sender.PAUSED, sender.RESUMED):
                        await conn.execute(PAUSE, {"id": data["sender_id"], "paused": ce.type == sender.PAUSED})
                except (BadMessage, ValidationError, KeyError, TypeError) as exc:
                    outcome.reject(d, f"invalid sender event: {exc}")
        return outcome

    async def of_campaign(self, org_id: str, senders: dict) -> list[dict]:
        """The campaign's senders that exist (not removed) in its organization."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(OF_CAMPAIGN, {"org": org_id, "ids": senders.get("sender_ids") or [],
                                                    "label": senders.get("label")})
            return [dict(r._mapping) for r in rows]

    async def capacity(self, org_id: str, senders: dict) -> float | None:
        """Messages per minute the campaign's usable senders may send together; None when unlimited."""
        rates = [per_minute(s["quotas"]) for s in await self.of_campaign(org_id, senders)
                 if s["status"] == "connected" and not s["paused"]]
        if not rates:
            return 0.0
        return None if any(r is None for r in rates) else sum(rates)
