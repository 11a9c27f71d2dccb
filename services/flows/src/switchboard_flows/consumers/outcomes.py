"""The outcome of a message a `message` node sent — the session-pool's `message.status` (`sent`,
`failed`, `expired`), sent back as a `flow.send_outcome` command because the send command asked for
it (`outcome_to`) — → the execution that sent it (its `client_ref` is `flow:<execution id>`): the
node takes its `sent` or `failed` exit. The same handler reads the retired `flows__statuses`
consumer's statuses while it lives (`legacy_statuses.py`), passing over everyone else's messages on
a look at the raw bytes, unparsed. A batch's outcomes are delivered together (`Engine.deliver_many`)."""

from __future__ import annotations

from pydantic import ValidationError

from switchboard_contracts.flow import CLIENT_REF_PREFIX
from switchboard_contracts.message import MessageStatus
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from ..domain.inputs import StatusSeen
from ..engine import Engine

MARK = CLIENT_REF_PREFIX.encode()


class Outcomes:
    def __init__(self, engine: Engine):
        self.engine = engine

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        items = []
        for d in deliveries:
            if MARK not in d.data:
                continue
            try:
                ce = d.event()
                status = MessageStatus.model_validate(ce.data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"not a message.status event: {exc}")
                continue
            ref = status.client_ref or ""
            if not ref.startswith(CLIENT_REF_PREFIX) or status.message_id is None:
                continue
            error = f"{status.error.code}: {status.error.title}" if status.error else None
            items.append((ref[len(CLIENT_REF_PREFIX):], StatusSeen(
                input_id=ce.id, message_id=status.message_id, status=status.status.value, error=error),
                d.num_delivered > 1))
        if items:
            await self.engine.deliver_many(items)
        return outcome
