"""Fired timers (`sb.timer.flows.<org>.<key>`): an execution's delay or reply timeout, or a delayed
auto-reply. A timer that no longer matches what its execution waits for changes nothing."""

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
        items = []
        for d in deliveries:
            try:
                payload = fired(d.data)
                items.append((payload.get("execution_id") or d.subject, (d, payload, payload["kind"])))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                outcome.reject(d, f"not a timer: {exc!r}")
        await by_key(items, lambda item: self._one(*item, outcome))
        return outcome

    async def _one(self, d: Delivery, payload: dict, kind: str, outcome: BatchOutcome) -> None:
        if kind == "execution":
            execution_id, step = str(payload["execution_id"]), int(payload["step"])
            await self.engine.deliver(execution_id, TimerFired(input_id=f"timer:{execution_id}:{step}",
                                                               step=step), redelivered=d.num_delivered > 1)
        elif kind == "auto_reply" and self.auto_reply_due is not None:
            await self.auto_reply_due(payload)
        else:
            outcome.reject(d, f"unknown timer kind {kind!r}")
