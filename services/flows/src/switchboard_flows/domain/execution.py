"""The Execution aggregate: one run of a flow revision for one contact. It records where it is (the
current node and what that node waits for), its steps, its variables and HTTP results, and the
contact's messages that arrived while it was busy (kept for the next `wait_for_reply`). What it does
next is decided by the executor (executor.py); this module only records."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

ACTIVE = ("running", "waiting")
ENDED = ("completed", "failed", "cancelled")
SEEN_INPUTS = 200  # input ids remembered (a redelivered reply, status or timer changes nothing)


class Execution(Aggregate):
    @staticmethod
    def create_id(execution_id: str) -> UUID:
        return UUID(execution_id)

    @event("Started")
    def __init__(self, execution_id: str, org_id: str, flow_id: str, revision: int, contact: str,
                 contact_name: str | None, sender_id: str, trigger: dict[str, Any], data: dict[str, Any],
                 start_node: str, at: datetime, message: str | None = None, reply_id: str | None = None,
                 actor: dict | None = None):
        self.org_id, self.flow_id, self.revision = org_id, flow_id, revision
        self.contact, self.contact_name, self.sender_id = contact, contact_name, sender_id
        self.trigger, self.data = trigger, data
        self.status = "running"
        self.node: str | None = start_node
        self.entered_at = at
        self.steps: list[dict[str, Any]] = []
        self.vars: dict[str, Any] = {}
        self.http: dict[str, dict[str, Any]] = {}
        self.message, self.reply_id = message, reply_id  # the triggering message's, until a reply
        self.inbox: list[dict[str, Any]] = []
        self.waiting: dict[str, Any] | None = None
        self.visits: dict[str, int] = {}  # steps per node since the contact last wrote (the loop guard)
        self.seen: list[str] = [trigger["event_id"]] if trigger.get("event_id") else []
        self.started_at = at
        self.ended_at: datetime | None = None
        self.reason: str | None = None

    @property
    def step_number(self) -> int:
        """The number the current node's step will have."""
        return len(self.steps) + 1

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def has_seen(self, input_id: str | None) -> bool:
        return input_id is not None and input_id in self.seen

    def context(self) -> dict[str, Any]:
        """What placeholders and conditions read."""
        return {"contact": {"name": self.contact_name, "phone": self.contact},
                "flow": {"message": self.message, "reply_id": self.reply_id, "data": self.data, "http": self.http},
                "vars": self.vars}

    def _saw(self, input_id: str | None) -> None:
        if input_id is not None:
            self.seen = [*self.seen[-(SEEN_INPUTS - 1):], input_id]

    @event("StepCompleted")
    def _step_completed(self, org_id: str, flow_id: str, step: int, node: str, node_type: str, exit: str | None,
                       next_node: str | None, at: datetime, duration_ms: int, detail: dict[str, Any] | None,
                       changes: dict[str, Any] | None) -> None:
        self.steps.append({"step": step, "node": node, "type": node_type, "exit": exit, "at": at.isoformat(),
                           "duration_ms": duration_ms, **({"detail": detail} if detail else {})})
        for key, value in (changes or {}).items():
            if key == "vars":
                self.vars = {**self.vars, **value}
            elif key == "http":
                self.http = {**self.http, **value}
        self.visits = {**self.visits, node: self.visits.get(node, 0) + 1}
        self.node, self.entered_at = next_node, at
        self.waiting = None
        self.status = "running"

    @event("Waited")
    def _waited(self, org_id: str, flow_id: str, node: str, waiting_for: str, until: datetime | None, message_id: str | None,
               step: int, at: datetime) -> None:
        self.waiting = {"for": waiting_for, "until": until.isoformat() if until else None,
                        "message_id": message_id, "step": step}
        self.status = "waiting"

    @event("Resumed")
    def _resumed(self, org_id: str, flow_id: str, node: str, by: str, input_id: str | None, at: datetime,
                message: str | None = None, reply_id: str | None = None, contact_name: str | None = None) -> None:
        self._saw(input_id)
        if by == "reply":
            self.message, self.reply_id = message, reply_id
            self.contact_name = contact_name or self.contact_name
            self.visits = {}
        self.status = "running"

    @event("Buffered")
    def _buffered(self, org_id: str, flow_id: str, input_id: str, text: str | None, reply_id: str | None,
                 contact_name: str | None, at: datetime) -> None:
        self._saw(input_id)
        self.inbox = [*self.inbox, {"input_id": input_id, "text": text, "reply_id": reply_id,
                                    "contact_name": contact_name}]

    @event("InboxTaken")
    def _inbox_taken(self, org_id: str, flow_id: str, node: str, input_id: str, at: datetime) -> None:
        first = self.inbox[0]
        self.inbox = self.inbox[1:]
        self.message, self.reply_id = first["text"], first["reply_id"]
        self.contact_name = first["contact_name"] or self.contact_name
        self.visits = {}

    @event("HandoffRequested")
    def _handoff_requested(self, org_id: str, flow_id: str, node: str, conversation_id: str, sender_id: str,
                           contact: str, team_id: str | None, note: str | None, at: datetime) -> None:
        pass

    @event("Ended")
    def _ended(self, org_id: str, flow_id: str, status: str, reason: str | None, steps: int, at: datetime,
               actor: dict | None = None) -> None:
        self.status, self.reason, self.ended_at = status, reason, at
        self.waiting = None
        self.inbox = []

    # --- what the executor calls (the ids every event carries are filled in here) -------------------

    def step_completed(self, **fields: Any) -> None:
        self._step_completed(org_id=self.org_id, flow_id=self.flow_id, **fields)

    def waited(self, **fields: Any) -> None:
        self._waited(org_id=self.org_id, flow_id=self.flow_id, **fields)

    def resumed(self, **fields: Any) -> None:
        self._resumed(org_id=self.org_id, flow_id=self.flow_id, **fields)

    def buffered(self, **fields: Any) -> None:
        self._buffered(org_id=self.org_id, flow_id=self.flow_id, **fields)

    def inbox_taken(self, **fields: Any) -> None:
        self._inbox_taken(org_id=self.org_id, flow_id=self.flow_id, **fields)

    def handoff_requested(self, **fields: Any) -> None:
        self._handoff_requested(org_id=self.org_id, flow_id=self.flow_id, sender_id=self.sender_id,
                                contact=self.contact, **fields)

    def ended(self, **fields: Any) -> None:
        self._ended(org_id=self.org_id, flow_id=self.flow_id, steps=len(self.steps), **fields)
