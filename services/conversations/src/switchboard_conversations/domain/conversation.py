"""The Conversation aggregate: one per (sender, contact) in an organization — its inbox lifecycle
(status, assignee and team, priority, tags, notes, reads, the ERP customer it belongs to). Its state
stays bounded; the message history lives in the service's history tables. Pure: every decision takes
the time it is made at (`at`) and who makes it (`actor`, `{"type", "id"}`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from switchboard_contracts.conversation import PRIORITIES, conversation_id

from .errors import IllegalTransition, InvalidChange

STATUSES = ("open", "pending", "snoozed", "resolved", "archived")
# Where each status may go by a user's hand (`archived` only from `resolved`; from `archived` only back
# to `open`). A snoozed conversation may be snoozed again (to another time).
TRANSITIONS = {
    "open": {"pending", "snoozed", "resolved"},
    "pending": {"open", "snoozed", "resolved"},
    "snoozed": {"open", "pending", "snoozed", "resolved"},
    "resolved": {"open", "archived"},
    "archived": {"open"},
}
REOPENED_BY_INBOUND = {"resolved", "snoozed", "archived"}
REOPENED_BY_REPLY = {"resolved", "archived"}
KEEP = object()  # an assign that leaves the agent (or the team) as it is
MAX_TAGS = 50
MAX_FIRED = 30  # SLA markers kept (a deadline's are only looked up while it is pending)


class Conversation(Aggregate):
    @staticmethod
    def create_id(org_id: str, sender_id: str, contact: str) -> UUID:
        return UUID(conversation_id(org_id, sender_id, contact))

    @event("Started")
    def __init__(self, org_id: str, sender_id: str, contact: str, contact_name: str | None,
                 started_at: datetime):
        self.org_id = org_id
        self.sender_id = sender_id
        self.contact = contact
        self.contact_name = contact_name
        self.started_at = started_at
        self.status = "open"
        self.agent_id: str | None = None
        self.team_id: str | None = None
        self.priority = "none"
        self.tags: list[str] = []
        self.customer_id: str | None = None
        self.snoozed_until: datetime | None = None
        self.resolved_at: datetime | None = None
        self.sla_fired: list[str] = []  # the SLA warnings and breaches fired (sla.marker), newest last

    # --- decisions ----------------------------------------------------------------------------

    def assign(self, actor: dict, at: datetime, agent_id=KEEP, team_id=KEEP, execution_id: str | None = None) -> None:
        agent = self.agent_id if agent_id is KEEP else agent_id
        team = self.team_id if team_id is KEEP else team_id
        if (agent, team) == (self.agent_id, self.team_id):
            return
        if agent is None and team is None:
            self._unassigned(org_id=self.org_id, previous_agent_id=self.agent_id, previous_team_id=self.team_id, actor=actor, at=at)
        else:
            self._assigned(org_id=self.org_id, agent_id=agent, team_id=team, previous_agent_id=self.agent_id,
                           previous_team_id=self.team_id, execution_id=execution_id, actor=actor, at=at)

    def change_status(self, status: str, actor: dict, at: datetime, snoozed_until: datetime | None = None,
                      reason: str | None = None) -> None:
        """A user's (or the system's) change of status; an illegal one raises IllegalTransition."""
        if status not in STATUSES:
            raise InvalidChange("status", f"one of {', '.join(STATUSES)}")
        if status != "snoozed" and snoozed_until is not None:
            raise InvalidChange("snoozed_until", "only with status snoozed")
        if status == "snoozed" and snoozed_until is not None and snoozed_until <= at:
            raise InvalidChange("snoozed_until", "must be in the future")
        if status == self.status and status != "snoozed":
            return
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(self.status, status)
        if status == "snoozed":
            self._snoozed(org_id=self.org_id, until=snoozed_until, previous_status=self.status, actor=actor, at=at)
        elif status == "archived":
            self._archived(org_id=self.org_id, reason=reason, actor=actor, at=at)
        else:
            self._status_changed(org_id=self.org_id, status=status, previous_status=self.status, reason=reason, actor=actor, at=at)

    def inbound(self, at: datetime) -> None:
        """The contact wrote: a resolved, snoozed or archived conversation opens again (the same one,
        keeping its assignee)."""
        if self.status in REOPENED_BY_INBOUND:
            self._status_changed(org_id=self.org_id, status="open", previous_status=self.status, reason="inbound_message",
                                 actor={"type": "system", "id": "inbound_message"}, at=at)

    def replied(self, actor: dict, at: datetime) -> None:
        """A user replied: a resolved or archived conversation opens again."""
        if self.status in REOPENED_BY_REPLY:
            self._status_changed(org_id=self.org_id, status="open", previous_status=self.status, reason="reply", actor=actor, at=at)

    def snooze_ended(self, until: datetime, at: datetime) -> None:
        """A snooze's time came: open again, unless the snooze was changed or ended since."""
        if self.status == "snoozed" and self.snoozed_until == until:
            self._status_changed(org_id=self.org_id, status="open", previous_status="snoozed", reason="snooze_ended",
                                 actor={"type": "system", "id": "snooze_ended"}, at=at)

    def handoff(self, execution_id: str, team_id: str | None, at: datetime) -> None:
        """A flow hands the conversation to people: it is open, with the named team (the agent kept)."""
        actor = {"type": "flow", "id": execution_id}
        if self.status != "open":
            self._status_changed(org_id=self.org_id, status="open", previous_status=self.status, reason="handoff",
                                 actor=actor, at=at)
        if team_id is not None and team_id != self.team_id:
            self._assigned(org_id=self.org_id, agent_id=self.agent_id, team_id=team_id,
                           previous_agent_id=self.agent_id, previous_team_id=self.team_id,
                           execution_id=execution_id, actor=actor, at=at)

    def auto_archive(self, resolved_at: datetime, at: datetime) -> None:
        """Resolved long enough (SWITCHBOARD_ARCHIVE_AFTER_DAYS): archived, unless reopened since."""
        if self.status == "resolved" and self.resolved_at == resolved_at:
            self._archived(org_id=self.org_id, reason="auto_archive",
                           actor={"type": "system", "id": "auto_archive"}, at=at)

    def auto_resolve(self, at: datetime) -> None:
        """Open with no activity for the organization's auto-resolve time (the caller checked that)."""
        if self.status == "open":
            self._status_changed(org_id=self.org_id, status="resolved", previous_status="open",
                                 reason="auto_resolve", actor={"type": "system", "id": "auto_resolve"}, at=at)

    def sla_due(self, policy_id: str, target: str, kind: str, due_at: datetime, marker: str, at: datetime,
                raise_priority: bool = False, team_id: str | None = None) -> None:
        """An SLA target's warning time or due time passed unmet: recorded once per deadline; a breach
        escalates as the policy says (the priority raised one level, the conversation given to a team)."""
        if marker in self.sla_fired:
            return
        actor = {"type": "system", "id": "sla"}
        event = self._sla_warning if kind == "warning" else self._sla_breached
        event(org_id=self.org_id, policy_id=policy_id, target=target, due_at=due_at, marker=marker, actor=actor, at=at)
        if kind != "breached":
            return
        if raise_priority and self.priority != PRIORITIES[-1]:
            self.set_priority(PRIORITIES[PRIORITIES.index(self.priority) + 1], actor, at, reason="sla_escalation")
        if team_id is not None and team_id != self.team_id:
            self._assigned(org_id=self.org_id, agent_id=self.agent_id, team_id=team_id,
                           previous_agent_id=self.agent_id, previous_team_id=self.team_id, execution_id=None,
                           actor=actor, at=at)

    def set_priority(self, priority: str, actor: dict, at: datetime, reason: str | None = None) -> None:
        if priority not in PRIORITIES:
            raise InvalidChange("priority", f"one of {', '.join(PRIORITIES)}")
        if priority != self.priority:
            self._priority_changed(org_id=self.org_id, priority=priority, previous_priority=self.priority, reason=reason,
                                   actor=actor, at=at)

    def change_tags(self, add: list[str], remove: list[str], actor: dict, at: datetime) -> None:
        added = sorted({t for t in add if t not in self.tags} - set(remove))
        removed = sorted({t for t in remove if t in self.tags})
        if len(self.tags) + len(added) - len(removed) > MAX_TAGS:
            raise InvalidChange("add", f"a conversation has at most {MAX_TAGS} tags")
        if added:
            self._tagged(org_id=self.org_id, tags=added, all_tags=sorted(set(self.tags) | set(added)),
                         actor=actor, at=at)
        if removed:
            self._untagged(org_id=self.org_id, tags=removed, all_tags=sorted(set(self.tags) - set(removed)),
                            actor=actor, at=at)

    def add_note(self, note_id: str, text: str, actor: dict, at: datetime) -> None:
        self._note_added(org_id=self.org_id, note_id=note_id, text=text, actor=actor, at=at)

    def read(self, up_to: datetime, actor: dict, at: datetime) -> None:
        self._read(org_id=self.org_id, up_to=up_to, actor=actor, at=at)

    def link_customer(self, customer_id: str, actor: dict, at: datetime) -> None:
        if customer_id != self.customer_id:
            self._customer_linked(org_id=self.org_id, customer_id=customer_id, actor=actor, at=at)

    # --- what happened ---------------------------------------------------------------------------

    @event("Assigned")
    def _assigned(self, org_id, agent_id, team_id, previous_agent_id, previous_team_id, execution_id, actor, at):
        self.agent_id, self.team_id = agent_id, team_id

    @event("Unassigned")
    def _unassigned(self, org_id, previous_agent_id, previous_team_id, actor, at):
        self.agent_id = self.team_id = None

    @event("StatusChanged")
    def _status_changed(self, org_id, status, previous_status, reason, actor, at):
        self.status = status
        self.snoozed_until = None
        self.resolved_at = at if status == "resolved" else None

    @event("Snoozed")
    def _snoozed(self, org_id, until, previous_status, actor, at):
        self.status, self.snoozed_until, self.resolved_at = "snoozed", until, None

    @event("Archived")
    def _archived(self, org_id, reason, actor, at):
        self.status, self.snoozed_until = "archived", None

    @event("PriorityChanged")
    def _priority_changed(self, org_id, priority, previous_priority, reason, actor, at):
        self.priority = priority

    @event("Tagged")
    def _tagged(self, org_id, tags, all_tags, actor, at):
        self.tags = list(all_tags)

    @event("Untagged")
    def _untagged(self, org_id, tags, all_tags, actor, at):
        self.tags = list(all_tags)

    @event("NoteAdded")
    def _note_added(self, org_id, note_id, text, actor, at):
        pass

    @event("Read")
    def _read(self, org_id, up_to, actor, at):
        pass

    @event("SlaWarning")
    def _sla_warning(self, org_id, policy_id, target, due_at, marker, actor, at):
        self.sla_fired = [*self.sla_fired[-(MAX_FIRED - 1):], marker]

    @event("SlaBreached")
    def _sla_breached(self, org_id, policy_id, target, due_at, marker, actor, at):
        self.sla_fired = [*self.sla_fired[-(MAX_FIRED - 1):], marker]

    @event("CustomerLinked")
    def _customer_linked(self, org_id, customer_id, actor, at):
        self.customer_id = customer_id
