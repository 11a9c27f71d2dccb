"""WhatsApp Web session changes reported by WAHA (`sender.session_status`, from webhook-ingest):
WORKING connects the sender, SCAN_QR_CODE means its QR waits to be scanned, FAILED (and STOPPED when we
did not stop it) disconnects it and starts reconnecting with backoff."""

from __future__ import annotations

from pydantic import ValidationError

from switchboard_contracts import sender as contract
from switchboard_runtime.eventstore import call
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from ..application import SendersApp
from .connections import Connector, phone_of


class SessionEvents:
    def __init__(self, app: SendersApp, connector: Connector):
        self.app, self.connector = app, connector

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        for d in deliveries:  # in stream order: a session's states apply as they happened
            try:
                ce = d.event()
                s = contract.SenderSessionStatus.model_validate(ce.data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"invalid session status: {exc}")
                continue
            sender = await call(self.app.find, s.sender_id)
            if sender is None or sender.org_id != ce.orgid or sender.removed:
                continue
            org = ce.orgid
            if s.status == "WORKING":
                await self.connector.changed(await call(self.app.connected, org, s.sender_id, phone_of(s.me)))
            elif s.status == "SCAN_QR_CODE":
                await self.connector.changed(await call(self.app.qr_issued, org, s.sender_id))
            elif s.status in ("FAILED", "STOPPED") and sender.status in ("connected", "qr_issued", "connecting"):
                reason = f"WhatsApp Web session {s.status.lower()}"
                changed = await call(self.app.disconnected, org, s.sender_id, reason, s.status)
                await self.connector.changed(changed)
                # one chain per drop: a redelivered event does not start a second one
                await self.connector.schedule(sender, reason, msg_id=f"reconnect:{ce.id}")
        return outcome
