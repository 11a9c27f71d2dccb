"""Fired timers (`sb.timer.flows.<org>.<key>`): an execution's delay or reply timeout, or a delayed
auto-reply. A timer that no longer matches what its execution waits for changes nothing. A batch's
execution timers are delivered together (`Engine.deliver_many`: thousands falling due in the same
second cost a few commits, not thousands)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from switchboard_runtime.messaging.consumer import BatchOutcome, Delivery

from ..domain.inputs import TimerFired
from ..engine import Engine
from ..timers import fired
from .spread import by_key

AutoReplyDue = Callable[[dict], Awaitable[None]]


class FiredTimers:
    def __init__(self, engine: Engine, auto_reply_due: AutoReplyDue | None = None):
        self.engine, self.auto_reply_due = engine, auto_reply_due

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        executions, auto_replies = [], []
        for d in deliveries:
            try:
                payload = fired(d.data)
                kind = payload["kind"]
                if kind == "execution":
                    execution_id, step = str(payload["execution_id"]), int(payload["step"])
                    executions.append((execution_id, TimerFired(input_id=f"timer:{execution_id}:{step}", step=step),
                                       d.num_delivered > 1))
                elif kind == "auto_reply" and self.auto_reply_due is not None:
                    auto_replies.append((d.subject, payload))
                else:
                    outcome.reject(d, f"unknown timer kind {kind!r}")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                outcome.reject(d, f"not a timer: {exc!r}")
        if executions:
            await self.engine.deliver_many(executions)
        await by_key(auto_replies, self.auto_reply_due)
        return outcome
