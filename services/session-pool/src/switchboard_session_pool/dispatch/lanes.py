"""Send lanes that never wait for one another: one per sender for providers that talk to the network
per sender (a hanging or slow sender holds only its own messages), one per batch for the simulator.
A lane sends, records, publishes and acks its messages once their outcome is recorded; those the
provider asks to bring back later go to the waiting room (announced as queued if they were not yet)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.acks import ack_many
from switchboard_runtime.messaging.publisher import Publisher

from ..domain.sender import Sender
from ..providers.router import ProviderRouter
from ..statuses import accepted_event
from ..stores.outbound_messages import OutboundStore
from .outcomes import Outcomes
from .pools import Pools
from .waiting import Waiting, WaitingRoom

log = get_logger(__name__)


class SendLanes:
    def __init__(self, senders: dict[str, Sender], provider: ProviderRouter, store: OutboundStore,
                 publisher: Publisher, pools: Pools, room: WaitingRoom, outcomes: Outcomes):
        self.senders, self.provider, self.store, self.publisher = senders, provider, store, publisher
        self.pools, self.room, self.outcomes = pools, room, outcomes
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, items: list[Waiting], accepted_at: datetime | None = None) -> None:
        lanes: dict[str, list[Waiting]] = {}
        for w in items:
            sender = self.senders.get(w.message.sender_id)
            shared = sender is not None and not self.provider.own_lane(sender)
            key = "simulator" if shared else w.message.sender_id
            lanes.setdefault(key, []).append(w)
        for lane in lanes.values():
            task = asyncio.create_task(self._send(lane, accepted_at))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, items: list[Waiting], accepted_at: datetime | None) -> None:
        """Send, record, publish, ack. Messages the provider asks us to bring back later wait (and
        are announced as queued if they were not yet); a failure leaves them un-acked: redelivered."""
        try:
            results = list(zip(items, await self.provider.send([w.message for w in items]), strict=True))
            # health and pauses first: selection reads them, and a message put back to wait before its
            # sender is paused could be taken and sent again at once
            await self.outcomes.react([(w.message, r) for w, r in results])
            again = [(w, r) for w, r in results if not r.final]
            for w, r in again:
                w.attempt += 1
                self.room.put(w, r)
            unannounced = [w for w, _ in again if not w.announced] if accepted_at is not None else []
            if unannounced:
                await self.publisher.publish_many(accepted_event(w.message, accepted_at) for w in unannounced)
                await self.store.published([w.message.message_id for w in unannounced])
                for w in unannounced:
                    w.announced = True
            final = [(w, r) for w, r in results if r.final]
            if final:
                await self.outcomes.finish([(w.message, r) for w, r in final], accepted_at=accepted_at,
                                           announced={w.message.message_id for w, _ in final if w.announced},
                                           note=False)
            if final:
                ids = [w.message.message_id for w, _ in final]
                await self.store.published(ids, ids)
            await ack_many([w.delivery.raw for w, _ in final])
        except Exception as exc:  # noqa: BLE001 - un-acked: JetStream redelivers them
            log.warning("sending failed; the commands will be redelivered", error=repr(exc))

    async def drain(self, timeout: float = 20.0) -> None:
        """Let sends in flight finish and be recorded (their providers time out)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
