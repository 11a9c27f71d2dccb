"""A flow's handoff (`flow.handoff_requested`): the conversation goes `open`, with the team the flow
names (a team the directory does not know is left out, and the handoff still opens it), and the
events name the flow's execution. A handoff whose conversation the history has not recorded yet is
tried again (the batch is redelivered); a repeat changes nothing."""

from __future__ import annotations

from pydantic import ValidationError

from switchboard_contracts import flow
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from .directory import Directory
from .lifecycle import Lifecycle


class NotYetRecorded(Exception):
    """The conversation a handoff names is not in the history yet: the batch is delivered again."""


class Handoffs:
    def __init__(self, lifecycle: Lifecycle, directory: Directory):
        self.lifecycle, self.directory = lifecycle, directory

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        missing = []
        for d in deliveries:
            try:
                ce = d.event()
                h = flow.HandoffRequested.model_validate(ce.data)
            except (BadMessage, ValidationError, ValueError) as exc:
                outcome.reject(d, f"not a handoff this service understands: {exc}")
                continue
            team = h.team_id if h.team_id and await self.directory.team(ce.orgid, h.team_id) else None
            changed = await self.lifecycle.change(ce.orgid, h.conversation_id,
                                                  lambda c, h=h, team=team: c.handoff(h.execution_id, team, h.at))
            if changed is None:
                missing.append(h.conversation_id)
        if missing:
            raise NotYetRecorded(f"conversations not recorded yet: {', '.join(missing)}")
        return outcome
