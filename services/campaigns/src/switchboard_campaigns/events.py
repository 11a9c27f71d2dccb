"""Campaign domain events as public CloudEvents (for the relay), each naming its `actor` (None for an
event stored before events named it)."""

from __future__ import annotations

from switchboard_contracts import campaign as contract
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import aggregate_event_id

from .domain.campaign import Campaign

SOURCE = "switchboard/campaigns"
TRANSITIONS = {"scheduled": contract.SCHEDULED, "running": contract.STARTED, "paused": contract.PAUSED,
               "cancelled": contract.CANCELLED, "completed": contract.COMPLETED, "failed": contract.FAILED}


def to_cloudevent(domain_event: object) -> CloudEvent | None:
    cid = str(domain_event.originator_id)
    eid = aggregate_event_id(cid, domain_event.originator_version)
    if isinstance(domain_event, Campaign.Created):
        data = contract.CampaignCreated(
            campaign_id=cid, name=domain_event.name, content=domain_event.content, senders=domain_event.senders,
            timezone=domain_event.timezone, window=domain_event.window, delay_ms=domain_event.delay_ms,
            schedule=domain_event.schedule, chunk=getattr(domain_event, "chunk", None),
            created_at=domain_event.created_at, actor=_actor(domain_event))
        type_ = contract.CREATED
    elif isinstance(domain_event, Campaign.ContactsImported):
        data = contract.ContactsImported(campaign_id=cid, accepted=domain_event.accepted,
                                         duplicates=domain_event.duplicates, rejected=domain_event.rejected,
                                         total=domain_event.total, at=domain_event.at,
                                         actor=_actor(domain_event))
        type_ = contract.CONTACTS_IMPORTED
    elif isinstance(domain_event, Campaign.Edited):
        spec = domain_event.spec
        data = contract.CampaignEdited(campaign_id=cid, name=spec["name"], content=spec["content"],
                                       senders=spec["senders"], timezone=spec["timezone"], window=spec["window"],
                                       delay_ms=spec["delay_ms"], schedule=spec["schedule"],
                                       chunk=spec.get("chunk"), at=domain_event.at,
                                       actor=_actor(domain_event))
        type_ = contract.EDITED
    elif isinstance(domain_event, Campaign.Deleted):
        data, type_ = contract.CampaignDeleted(campaign_id=cid, at=domain_event.at,
                                                 actor=_actor(domain_event)), contract.DELETED
    elif isinstance(domain_event, Campaign.Transitioned):
        status = domain_event.status
        # running after paused is a resume; after draft or scheduled, the start
        type_ = TRANSITIONS[status]
        if status == "running" and domain_event.previous == "paused":
            type_ = contract.RESUMED
        data = contract.CampaignTransition(campaign_id=cid, status=status, reason=domain_event.reason,
                                           at=domain_event.at, actor=_actor(domain_event))
    else:
        return None
    return make_envelope(id=eid, source=SOURCE, type=type_, orgid=domain_event.org_id, data=data,
                         subject=cid, time=domain_event.timestamp)


def _actor(domain_event: object) -> dict | None:
    return getattr(domain_event, "actor", None)
