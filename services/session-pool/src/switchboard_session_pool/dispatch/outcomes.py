"""Outcomes: what is done once a message is sent, failed, expired or cancelled — recorded, then
published (preceded by its `message.accepted` when it was not announced), then noted as published —
and what the outcomes teach about each sender (its health; a sender the provider flagged, or that
failed 10 times in a row, is paused with the reason). Also the events of a finished message a
redelivered command republishes, and the `failed` of a command that cannot be processed. An outcome
goes with the command its message's `outcome_to` names (statuses.outcome_events)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from switchboard_contracts.message import Status, StatusError
from switchboard_runtime.eventstore import call
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.consumer import Delivery
from switchboard_runtime.messaging.publisher import Publisher

from ..application import SendersApp
from ..domain.health import Health
from ..domain.outbound import OutboundMessage, SendResult
from ..domain.sender import Sender
from ..statuses import accepted_event, outcome_events
from ..stores.outbound_messages import OutboundStore
from .intake import dead_letter_message
from .pools import Pools

log = get_logger(__name__)


def replay_events(m: OutboundMessage, row: dict) -> list:
    """The events of a finished message that are not noted as published (often none)."""
    now = datetime.now(UTC)
    if row.get("sender_id") and row["sender_id"] != m.sender_id:  # a pool message: its chosen sender
        m = replace(m, sender_id=row["sender_id"])
    final = Status(row["status"])
    error = StatusError(**row["error"]) if row.get("error") else None
    events = [] if row.get("accepted_published") else [accepted_event(m, row["created_at"])]
    if not row.get("outcome_published"):
        events += outcome_events(m, final, row["updated_at"] or now,
                                 provider_message_id=row.get("provider_message_id"), error=error)
    return events


class Outcomes:
    def __init__(self, app: SendersApp, senders: dict[str, Sender], store: OutboundStore, publisher: Publisher,
                 pools: Pools, outside_window: dict[str, set[str]], relay=None):
        self.app, self.senders, self.store, self.publisher = app, senders, store, publisher
        self.pools, self.outside_window = pools, outside_window
        self.relay = relay  # woken when a sender is paused automatically
        self.health: dict[str, Health] = {}  # per sender, in this replica

    async def finish(self, outcomes: list[tuple[OutboundMessage, SendResult]], *,
                     accepted_at: datetime | None = None, announced: set[str] | frozenset = frozenset(),
                     note: bool = True) -> None:
        """Record the outcomes, then publish them (preceded by `message.accepted` when the message
        was not announced before: `accepted_at` given and not in `announced`), in one pipelined
        publish, then (`note`) note them published."""
        await self.store.record([(m, r) for m, r in outcomes if not r.recorded])
        now = datetime.now(UTC)
        events = []
        for m, r in outcomes:
            self.pools.of.pop(m.message_id, None)
            self.outside_window.pop(m.message_id, None)
            if accepted_at is not None and m.message_id not in announced:
                events.append(accepted_event(m, accepted_at))
            if r.ok:
                events += outcome_events(m, Status.SENT, now, provider_message_id=r.provider_message_id)
            elif r.expired:
                events += outcome_events(m, Status.EXPIRED, now, error=r.error)
            else:
                events += outcome_events(m, Status.FAILED, now, error=r.error)
        await self.publisher.publish_many(events)
        if note:
            ids = [m.message_id for m, _ in outcomes]
            await self.store.published(ids, ids)

    async def react(self, results: list[tuple[OutboundMessage, SendResult]]) -> None:
        """Keep each sender's health; pause a sender the provider flagged (spam, account locked,
        blocked) or that failed 10 times in a row, with the reason."""
        for m, r in results:
            health = self.health.setdefault(m.sender_id, Health())
            health.record(r.ok)
            sender = self.senders.get(m.sender_id)
            if sender is None or sender.paused is not None:
                continue
            if r.retry == "pause_sender":
                reason = f"{r.error.title} ({r.error.code})" if r.error else "paused by the provider"
                await self._pause(m, reason, r.error.code if r.error else None)
            elif health.should_pause:
                await self._pause(m, f"{health.consecutive_failures} consecutive failures", None)

    async def _pause(self, m: OutboundMessage, reason: str, code) -> None:
        paused = await call(self.app.pause, m.org_id, m.sender_id, reason, automatic=True, code=code)
        if paused is not None:
            self.senders[m.sender_id] = paused
            log.warning("sender paused automatically", sender_id=m.sender_id, reason=reason)
            if self.relay is not None:
                self.relay.wake()

    async def dead_letter(self, d: Delivery, reason: str) -> None:
        """A command that cannot be processed still ends its message: publish `failed`."""
        m = dead_letter_message(d.data)
        if m is None:
            return  # nothing identifies a message: the dead letter alone records it
        error = StatusError(code="unprocessable_command", title="Command could not be processed",
                            detail=reason[:500])
        await self.publisher.publish_many(outcome_events(m, Status.FAILED, error=error))
