"""Sender domain events as public CloudEvents (for the relay)."""

from __future__ import annotations

from switchboard_contracts import sender as contract
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import aggregate_event_id

from .domain.sender import Sender

SOURCE = "switchboard/session-pool"


def to_cloudevent(domain_event: object) -> CloudEvent | None:
    sid = str(domain_event.originator_id)
    eid = aggregate_event_id(sid, domain_event.originator_version)
    if isinstance(domain_event, Sender.Registered):
        config = getattr(domain_event, "config", None) or {}  # credentials stay out of the event
        data = contract.SenderRegistered(
            sender_id=sid, name=domain_event.name, provider=domain_event.provider,
            quotas=contract.Quotas(**domain_event.quotas), registered_at=domain_event.registered_at,
            phone_number=domain_event.phone_number, phone_number_id=config.get("phone_number_id"),
            waba_id=config.get("waba_id"), session=config.get("session"),
            labels=getattr(domain_event, "labels", None) or [])
        type_ = contract.REGISTERED
    elif isinstance(domain_event, Sender.Connected):
        data = contract.SenderConnected(sender_id=sid, connected_at=domain_event.connected_at,
                                        phone_number=getattr(domain_event, "phone_number", None))
        type_ = contract.CONNECTED
    elif isinstance(domain_event, Sender.Disconnected):
        data = contract.SenderDisconnected(sender_id=sid, reason=domain_event.reason, code=domain_event.code,
                                           disconnected_at=domain_event.at,
                                           attempt=getattr(domain_event, "attempt", 0),
                                           retry_in_seconds=getattr(domain_event, "retry_in", None))
        type_ = contract.DISCONNECTED
    elif isinstance(domain_event, Sender.Paused):
        data = contract.SenderPaused(sender_id=sid, reason=domain_event.reason, automatic=domain_event.automatic,
                                     code=domain_event.code, paused_at=domain_event.at)
        type_ = contract.PAUSED
    elif isinstance(domain_event, Sender.Resumed):
        data = contract.SenderResumed(sender_id=sid, resumed_at=domain_event.at)
        type_ = contract.RESUMED
    elif isinstance(domain_event, Sender.Updated):
        quotas = domain_event.quotas
        data = contract.SenderUpdated(sender_id=sid, name=domain_event.name, labels=domain_event.labels,
                                      quotas=contract.Quotas(**quotas) if quotas is not None else None,
                                      updated_at=domain_event.at)
        type_ = contract.UPDATED
    elif isinstance(domain_event, Sender.Removed):
        data, type_ = contract.SenderRemoved(sender_id=sid, removed_at=domain_event.at), contract.REMOVED
    elif isinstance(domain_event, Sender.Connecting):
        data = contract.SenderConnecting(sender_id=sid, attempt=domain_event.attempt, at=domain_event.at)
        type_ = contract.CONNECTING
    elif isinstance(domain_event, Sender.QrIssued):
        data, type_ = contract.SenderQrIssued(sender_id=sid, at=domain_event.at), contract.QR_ISSUED
    elif isinstance(domain_event, Sender.Banned):
        data = contract.SenderBanned(sender_id=sid, reason=domain_event.reason, code=domain_event.code,
                                     banned_at=domain_event.at)
        type_ = contract.BANNED
    else:
        return None
    return make_envelope(id=eid, source=SOURCE, type=type_, orgid=domain_event.org_id, data=data,
                         subject=sid, time=domain_event.timestamp)
