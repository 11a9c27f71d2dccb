"""Follow Switchboard's events with a durable JetStream consumer, in plain nats-py (docs/subscribing.md).

NATS_URL (nats://127.0.0.1:4222), ORG_ID, DURABLE (the consumer's name: JetStream remembers how far it
got, so a restart goes on from there), TYPES (optional: "message.*,conversation.assigned"), START
("all": the organization's whole history the first time; "new": from now)."""

import asyncio
import json
import os
from collections import OrderedDict

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

STREAM = "SWITCHBOARD_EVENTS"


async def handle(event: dict) -> None:
    """Your code: here, one line per event."""
    print(event["type"], event["id"], flush=True)


async def main() -> None:
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    org, durable = os.environ["ORG_ID"], os.environ.get("DURABLE", "my-team")
    types = [t.strip() for t in os.environ.get("TYPES", "").split(",") if t.strip()]
    js = nc.jetstream()
    await js.add_consumer(STREAM, ConsumerConfig(  # the same config again is a no-op
        durable_name=durable, ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=1000,
        filter_subjects=[f"sb.evt.{org}.{t}" for t in types] or [f"sb.evt.{org}.>"],
        deliver_policy=DeliverPolicy.NEW if os.environ.get("START") == "new" else DeliverPolicy.ALL))
    sub = await js.pull_subscribe_bind(durable, stream=STREAM)
    seen: OrderedDict[str, None] = OrderedDict()  # ids handled lately: a redelivery is handled once
    while True:
        try:
            batch = await sub.fetch(100, timeout=5)
        except nats.errors.TimeoutError:
            continue  # nothing new
        for msg in batch:
            event = json.loads(msg.data)
            if event["id"] not in seen:
                await handle(event)
                seen[event["id"]] = None
                if len(seen) > 100_000:
                    seen.popitem(last=False)
            await msg.ack()


if __name__ == "__main__":
    asyncio.run(main())
