"""Whether a durable consumer has handled everything stored for it so far: nothing pending and nothing
delivered but unacknowledged. A service acks only after its handler's transaction commits, so once this
answers yes, a query made afterwards sees every event that was in the stream when it was asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nats.js import JetStreamContext

from switchboard_contracts.streams import ConsumerSpec


def caught_up(js: JetStreamContext, spec: ConsumerSpec) -> Callable[[], Awaitable[bool]]:
    async def ask() -> bool:
        try:
            info = await js.consumer_info(spec.stream, spec.durable)
        except Exception:  # noqa: BLE001 - NATS away or the consumer not made yet: not known to be caught up
            return False
        return info.num_pending == 0 and info.num_ack_pending == 0

    return ask
