"""The Campaign aggregate: draft → scheduled → running ⇄ paused → completed | cancelled | failed.
Its contacts live in a table (a campaign may have a million); the aggregate records their counts.
Each event names who made it (`actor`): the API's caller, or the system for what the service does itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .template_status import PAUSED_BY_TEMPLATE, RESUMED_BY_TEMPLATE

ACTIVE = ("scheduled", "running", "paused")
FINAL = ("completed", "cancelled", "failed")
# who makes the transitions the service makes itself (those the API makes name its caller)
SCHEDULED_START = {"type": "system", "id": "scheduled_start"}
ALL_SENT = {"type": "system", "id": "campaign_completed"}
FAILED = {"type": "system", "id": "campaign_failed"}
TEMPLATE_PAUSED = {"type": "system", "id": PAUSED_BY_TEMPLATE}
TEMPLATE_APPROVED = {"type": "system", "id": RESUMED_BY_TEMPLATE}


class TransitionError(Exception):
    """The campaign cannot do that in its current status (a 409 for the API)."""


class Campaign(Aggregate):
    @staticmethod
    def create_id(campaign_id: str) -> UUID:
        return UUID(campaign_id)

    @event("Created")
    def __init__(self, campaign_id: str, org_id: str, name: str, content: dict[str, Any],
                 senders: dict[str, Any], timezone: str, window: dict[str, Any] | None,
                 delay_ms: dict[str, int] | None, schedule: dict[str, Any] | None,
                 variables: list[str] | None, created_at: datetime, chunk: dict[str, int] | None = None,
                 actor: dict | None = None):
        self.org_id = org_id
        self.name = name
        self.content = content
        self.senders = senders
        self.timezone = timezone
        self.window = window
        self.delay_ms = delay_ms
        self.schedule = schedule
        self.variables = variables
        self.chunk = chunk  # {"size", "pause_ms"}: a broadcast list's send goes in chunks with pauses
        self.created_at = created_at
        self.status = "draft"
        self.contacts = 0
        self.reason: str | None = None
        self.deleted = False

    @event("Edited")
    def edited(self, org_id: str, spec: dict[str, Any], at: datetime, actor: dict | None = None) -> None:
        for key in ("name", "content", "senders", "timezone", "window", "delay_ms", "schedule", "variables"):
            setattr(self, key, spec[key])
        self.chunk = spec.get("chunk")

    def edit(self, spec: dict[str, Any], at: datetime, actor: dict | None = None) -> None:
        """Change a draft's definition (content, senders, time zone, window, delay, schedule)."""
        if self.status != "draft":
            raise TransitionError(f"only a draft campaign can be edited (it is {self.status})")
        self.edited(org_id=self.org_id, spec=spec, at=at, actor=actor)

    def spec(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in ("name", "content", "senders", "timezone", "window", "delay_ms",
                                                    "schedule", "variables", "chunk")}

    @event("ContactsImported")
    def contacts_imported(self, org_id: str, accepted: int, duplicates: int, rejected: int, total: int,
                          at: datetime, actor: dict | None = None) -> None:
        self.contacts = total

    @event("Transitioned")
    def transitioned(self, org_id: str, status: str, previous: str, reason: str | None, at: datetime,
                     actor: dict | None = None) -> None:
        self.status = status
        self.reason = reason

    def _transition(self, status: str, reason: str | None, at: datetime, actor: dict | None) -> None:
        self.transitioned(org_id=self.org_id, status=status, previous=self.status, reason=reason, at=at,
                          actor=actor)

    @event("Deleted")
    def deleted_(self, org_id: str, at: datetime, actor: dict | None = None) -> None:
        self.deleted = True

    # --- commands (they check, then record) -------------------------------------------------------

    def delete(self, at: datetime, actor: dict | None = None) -> None:
        if self.status in ACTIVE:
            raise TransitionError(f"a {self.status} campaign cannot be deleted: cancel it first")
        self.deleted_(org_id=self.org_id, at=at, actor=actor)

    def import_contacts(self, accepted: int, duplicates: int, rejected: int, at: datetime,
                        actor: dict | None = None) -> None:
        if self.status in FINAL:
            raise TransitionError(f"a {self.status} campaign takes no more contacts")
        self.contacts_imported(org_id=self.org_id, accepted=accepted, duplicates=duplicates, rejected=rejected,
                               total=self.contacts + accepted, at=at, actor=actor)

    def start(self, at: datetime, starts_later: bool, actor: dict | None = None) -> None:
        if self.status != "draft":
            raise TransitionError(f"only a draft campaign can be started (it is {self.status})")
        if self.contacts == 0:
            raise TransitionError("the campaign has no contacts")
        self._transition(status="scheduled" if starts_later else "running", reason=None, at=at, actor=actor)

    def begin(self, at: datetime) -> None:
        """The scheduled start time came."""
        if self.status == "scheduled":
            self._transition(status="running", reason=None, at=at, actor=SCHEDULED_START)

    def pause(self, at: datetime, actor: dict | None = None) -> None:
        if self.status not in ("running", "scheduled"):
            raise TransitionError(f"only a running or scheduled campaign can be paused (it is {self.status})")
        self._transition(status="paused", reason=None, at=at, actor=actor)

    def resume(self, at: datetime, actor: dict | None = None) -> None:
        if self.status != "paused":
            raise TransitionError(f"only a paused campaign can be resumed (it is {self.status})")
        self._transition(status="running", reason=None, at=at, actor=actor)

    def cancel(self, at: datetime, actor: dict | None = None) -> None:
        if self.status in FINAL:
            raise TransitionError(f"the campaign is already {self.status}")
        self._transition(status="cancelled", reason=None, at=at, actor=actor)

    def complete(self, at: datetime) -> None:
        if self.status == "running":
            self._transition(status="completed", reason=None, at=at, actor=ALL_SENT)

    def fail(self, reason: str, at: datetime, actor: dict | None = None) -> None:
        if self.status not in FINAL:
            self._transition(status="failed", reason=reason, at=at, actor=actor or FAILED)

    # --- what its template's status does (no-ops when they do not apply: a report may come twice) ---

    def hold_for_template(self, at: datetime) -> None:
        """Its template may not be sent now: a running or scheduled campaign pauses, as a manual pause
        does, with the reason (a campaign an operator paused stays as it is)."""
        if self.status in ("running", "scheduled"):
            self._transition(status="paused", reason=PAUSED_BY_TEMPLATE, at=at, actor=TEMPLATE_PAUSED)

    def release_for_template(self, at: datetime) -> None:
        """Its template is sendable again: only a campaign its template paused resumes."""
        if self.status == "paused" and self.reason == PAUSED_BY_TEMPLATE:
            self._transition(status="running", reason=RESUMED_BY_TEMPLATE, at=at, actor=TEMPLATE_APPROVED)

    def end_for_template(self, reason: str, at: datetime) -> None:
        """Its template can never be sent again (disabled, deleted): whatever still waits fails."""
        self.fail(reason, at, {"type": "system", "id": reason})

    @property
    def editable(self) -> bool:
        return self.status == "draft"
