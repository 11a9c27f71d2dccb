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
            waba_id=config.get("waba_id"), session=config.get("session"))
        type_ = contract.REGISTERED
    elif isinstance(domain_event, Sender.Connected):
        data = contract.SenderConnected(sender_id=sid, connected_at=domain_event.connected_at)
        type_ = contract.CONNECTED
    else:
        return None
    return make_envelope(id=eid, source=SOURCE, type=type_, orgid=domain_event.org_id, data=data,
                         subject=sid, time=domain_event.timestamp)
