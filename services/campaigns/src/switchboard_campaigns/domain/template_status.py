"""What a template's status at Meta means for the campaigns that send it (pure).

Meta's own words: a PAUSED template "can't be sent to customers … you should only resume these campaigns
when the template's status has been set to Active again" (APPROVED: Meta reports an unpause as APPROVED);
an edited template is reviewed again (PENDING) and "can't be sent … until it has been re-approved"; a
FLAGGED template keeps status APPROVED and is still sent until the date it is disabled; DISABLED is for
good (the third pause), as is a deleted template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SENDABLE = frozenset({"APPROVED", "FLAGGED"})
HOLDING = frozenset({"PAUSED", "PENDING"})  # a campaign sending it waits (paused) until it is sendable again
ENDING = frozenset({"DISABLED", "DELETED", "PENDING_DELETION"})  # it can never be sent again: the campaign fails
REFUSED_WHEN_DUE = ENDING | {"REJECTED"}  # a scheduled start with it fails (anything else not sendable waits)

PAUSED_BY_TEMPLATE = "template_paused"  # the reason (and the system actor's id) of a pause by the template
RESUMED_BY_TEMPLATE = "template_approved"

Effect = Literal["pause", "resume", "fail"]


@dataclass(frozen=True)
class Blocked:
    """A campaign's template is known in one of its Meta senders' accounts and may not be sent there."""

    status: str
    waba_id: str
    name: str
    language: str


def normal(status: str) -> str:
    return status.strip().upper()


def sendable(status: str) -> bool:
    return normal(status) in SENDABLE


def effect_on_campaigns(status: str) -> Effect | None:
    """What the template's current status does to the campaigns that send it: pause those sending,
    resume those it paused, fail every one still active — or nothing (DRAFT, REJECTED, ARCHIVED…:
    a campaign is not started with those; one started before the template was known goes on)."""
    status = normal(status)
    if status in SENDABLE:
        return "resume"
    if status in HOLDING:
        return "pause"
    if status in ENDING:
        return "fail"
    return None


def when_due(status: str) -> Effect:
    """A scheduled campaign whose start comes while its template may not be sent: it fails when the
    template will not come back (disabled, deleted, rejected), else it waits paused for its approval."""
    return "fail" if normal(status) in REFUSED_WHEN_DUE else "pause"


def failure_reason(status: str) -> str:
    """`template_disabled`, `template_deleted`, `template_rejected`…"""
    return f"template_{normal(status).lower()}"


def blocking(found: list[Blocked]) -> Blocked | None:
    """The status that keeps a campaign from sending, of the accounts its Meta senders belong to: one
    that ends it before one that holds it; None when the template may be sent in all of them."""
    refused = [b for b in found if not sendable(b.status)]
    refused.sort(key=lambda b: (normal(b.status) not in REFUSED_WHEN_DUE, b.waba_id))
    return refused[0] if refused else None
