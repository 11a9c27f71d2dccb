"""Performing an execution's effect (executor.effect_of): a `message` node's send command (its id is
deterministic, so JetStream and the session-pool drop a repeat; its outcome comes back as a
`flow.send_outcome` command, consumers/outcomes.py), a timer (replaced, never doubled), or
a `flow.effect` command for an HTTP call or an e-mail (performed by the effects consumer, which acks
it once the outcome is recorded: a crash mid-call retries it). A message the content rules refuse
fails the node at once (its `failed` exit), never the consumer; so does one to a blocklisted
contact, and a template the sender may not send (`template_sends.py`: unknown in a Meta sender's account,
neither APPROVED nor FLAGGED, variables that do not match — the step's detail names the `code`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pydantic import ValidationError

from switchboard_contracts import commands
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.flow import CLIENT_REF_PREFIX, PERFORM_EFFECT, SEND_OUTCOME, PerformEffect
from switchboard_runtime.messaging.publisher import Publisher

from .blocklist import Blocklist
from .domain.execution import Execution
from .domain.inputs import Call, Effect, Input, Send, StatusSeen, Timer
from .domain.template_check import TemplateRefused
from .template_sends import TemplateSends
from .timers import Timers

SOURCE = "switchboard/flows"
CONTENT_FIELDS = ("type", "text", "template", "media", "interactive", "reply_to", "ttl_seconds")


class Performer:
    def __init__(self, publisher: Publisher, timers: Timers, blocklist: Blocklist, templates: TemplateSends):
        self.publisher, self.timers, self.blocklist, self.templates = publisher, timers, blocklist, templates

    async def perform(self, ex: Execution, effect: Effect, cause: str | None, fresh: bool = False) -> Input | None:
        """Do it; an input to deliver back when the effect failed before leaving (else None).
        `fresh`: a timer set again on purpose (its schedule was lost) gets a message id of its own,
        which JetStream's duplicate window does not drop."""
        if isinstance(effect, Send):
            return await self._send(ex, effect, cause)
        if isinstance(effect, Timer):
            execution_id = str(ex.id)
            await self.timers.set(ex.org_id, execution_id, effect.until,
                                  {"kind": "execution", "execution_id": execution_id, "step": effect.step},
                                  msg_id=f"timer:{execution_id}:{effect.step}"
                                  + (f":{time.time_ns()}" if fresh else ""))
            return None
        if isinstance(effect, Call):
            data = PerformEffect(execution_id=str(ex.id), step=effect.step, kind=effect.kind)
            await self.publisher.publish(make_envelope(
                id=f"effect:{ex.id}:{effect.step}", source=SOURCE, type=PERFORM_EFFECT, orgid=ex.org_id, data=data,
                subject=str(ex.id), causationid=cause))
        return None

    async def _send(self, ex: Execution, effect: Send, cause: str | None) -> Input | None:
        if await self.blocklist.blocked(ex.org_id, ex.contact):
            return StatusSeen(input_id=f"blocklisted:{effect.message_id}", message_id=effect.message_id,
                              status="failed", error="the contact is blocklisted")
        content = {k: v for k, v in effect.content.items() if k in CONTENT_FIELDS}
        try:
            content, rendered = await self.templates.fill(ex.org_id, effect.sender_id, content)
        except TemplateRefused as refused:
            return StatusSeen(input_id=f"refused:{effect.message_id}", message_id=effect.message_id,
                              status="failed", error=str(refused), detail=refused.detail)
        try:
            cmd = commands.SendMessage(message_id=effect.message_id, sender_id=effect.sender_id, to=ex.contact,
                                       client_ref=f"{CLIENT_REF_PREFIX}{ex.id}", requested_at=datetime.now(UTC),
                                       rendered=rendered, outcome_to=SEND_OUTCOME, **content)
        except (ValidationError, TypeError, ValueError) as exc:
            reason = "; ".join(e["msg"] for e in exc.errors()) if isinstance(exc, ValidationError) else str(exc)
            return StatusSeen(input_id=f"refused:{effect.message_id}", message_id=effect.message_id,
                              status="failed", error=f"the message was refused: {reason}")
        await self.publisher.publish(make_envelope(
            id=effect.message_id, source=SOURCE, type=commands.SEND_MESSAGE, orgid=ex.org_id, data=cmd,
            subject=effect.message_id, causationid=cause))
        return None
