"""The senders read model: registration, connection state, pause, in event order."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard_contracts import sender
from switchboard_contracts.envelope import CloudEvent

from ..tables import SCHEMA

S = f"{SCHEMA}.senders"
EVENTS = {sender.REGISTERED, sender.CONNECTED, sender.DISCONNECTED, sender.PAUSED, sender.RESUMED,
          sender.UPDATED, sender.REMOVED, sender.CONNECTING, sender.QR_ISSUED, sender.BANNED}

UPSERT = text(f"""
    INSERT INTO {S} (id, org_id, name, provider, status, quotas, phone_number, phone_number_id, waba_id,
                     session, created_at, labels)
    VALUES (:id, :org, :name, :provider, 'registered', CAST(:quotas AS jsonb), :phone, :pnid, :waba,
            :session, :at, CAST(:labels AS jsonb))
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, provider = excluded.provider, labels = excluded.labels,
        quotas = excluded.quotas, phone_number = COALESCE({S}.phone_number, excluded.phone_number),
        phone_number_id = excluded.phone_number_id, waba_id = excluded.waba_id,
        session = excluded.session, created_at = excluded.created_at""")
CONNECT = text(f"""
    INSERT INTO {S} (id, org_id, name, provider, status, quotas, phone_number, created_at)
    VALUES (:id, :org, '', '', 'connected', '{{}}', :phone, :at)
    ON CONFLICT (id) DO UPDATE SET status = 'connected', status_reason = NULL, attempt = 0,
        retry_in_seconds = NULL,
        phone_number = COALESCE(excluded.phone_number, {S}.phone_number), updated_at = now()""")
DISCONNECT = text(f"""
    UPDATE {S} SET status = 'disconnected', status_reason = :reason, attempt = :attempt,
        retry_in_seconds = :retry_in, updated_at = now() WHERE id = :id AND removed_at IS NULL""")
STATUS = text(f"""
    UPDATE {S} SET status = :status, status_reason = COALESCE(:reason, status_reason),
        attempt = COALESCE(:attempt, attempt), updated_at = now() WHERE id = :id AND removed_at IS NULL""")
UPDATE = text(f"""
    UPDATE {S} SET name = COALESCE(:name, name), quotas = COALESCE(CAST(:quotas AS jsonb), quotas),
        labels = COALESCE(CAST(:labels AS jsonb), labels), updated_at = now() WHERE id = :id""")
REMOVE = text(f"""UPDATE {S} SET status = 'removed', removed_at = :at, updated_at = now() WHERE id = :id""")
PAUSE = text(f"""UPDATE {S} SET paused = CAST(:paused AS jsonb), updated_at = now() WHERE id = :id""")
RESUME = text(f"""UPDATE {S} SET paused = NULL, updated_at = now() WHERE id = :id""")


async def apply(conn: AsyncConnection, ce: CloudEvent) -> None:
    if ce.type == sender.REGISTERED:
        s = sender.SenderRegistered.model_validate(ce.data)
        await conn.execute(UPSERT, {
            "id": s.sender_id, "org": ce.orgid, "name": s.name, "provider": s.provider.value,
            "quotas": s.quotas.model_dump_json(), "phone": s.phone_number, "pnid": s.phone_number_id,
            "waba": s.waba_id, "session": s.session, "at": s.registered_at, "labels": json.dumps(s.labels)})
    elif ce.type == sender.CONNECTED:
        s = sender.SenderConnected.model_validate(ce.data)
        await conn.execute(CONNECT, {"id": s.sender_id, "org": ce.orgid, "at": s.connected_at,
                                     "phone": s.phone_number})
    elif ce.type == sender.DISCONNECTED:
        s = sender.SenderDisconnected.model_validate(ce.data)
        await conn.execute(DISCONNECT, {"id": s.sender_id, "reason": s.reason, "attempt": s.attempt,
                                        "retry_in": s.retry_in_seconds})
    elif ce.type == sender.PAUSED:
        s = sender.SenderPaused.model_validate(ce.data)
        paused = {"reason": s.reason, "automatic": s.automatic, "code": s.code, "at": s.paused_at.isoformat()}
        await conn.execute(PAUSE, {"id": s.sender_id, "paused": json.dumps(paused)})
    elif ce.type == sender.RESUMED:
        s = sender.SenderResumed.model_validate(ce.data)
        await conn.execute(RESUME, {"id": s.sender_id})
    elif ce.type == sender.UPDATED:
        s = sender.SenderUpdated.model_validate(ce.data)
        await conn.execute(UPDATE, {
            "id": s.sender_id, "name": s.name,
            "quotas": s.quotas.model_dump_json() if s.quotas is not None else None,
            "labels": json.dumps(s.labels) if s.labels is not None else None})
    elif ce.type == sender.REMOVED:
        s = sender.SenderRemoved.model_validate(ce.data)
        await conn.execute(REMOVE, {"id": s.sender_id, "at": s.removed_at})
    elif ce.type == sender.CONNECTING:
        s = sender.SenderConnecting.model_validate(ce.data)
        await conn.execute(STATUS, {"id": s.sender_id, "status": "connecting", "reason": None, "attempt": s.attempt})
    elif ce.type == sender.QR_ISSUED:
        s = sender.SenderQrIssued.model_validate(ce.data)
        await conn.execute(STATUS, {"id": s.sender_id, "status": "qr_issued", "reason": "waiting for the QR to be scanned",
                                    "attempt": None})
    elif ce.type == sender.BANNED:
        s = sender.SenderBanned.model_validate(ce.data)
        await conn.execute(STATUS, {"id": s.sender_id, "status": "banned", "reason": s.reason, "attempt": None})
