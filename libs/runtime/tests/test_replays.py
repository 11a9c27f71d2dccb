"""Dead letters given back to the one consumer that made them (messaging/replays.py), through a real
service host on a real NATS: the consumer's handler sees the original subject and sequence, another
consumer of the same events sees nothing, the dead letter is gone, and a replay that fails again is
dead-lettered again with its new reason."""

from __future__ import annotations

import asyncio
import time

import nats
import pytest

from switchboard_contracts import streams as specs
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.message import RECEIVED, MessageReceived
from switchboard_contracts.streams import ConsumerSpec
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.consumer import BatchOutcome, Delivery
from switchboard_runtime.messaging.history import StreamReader, stored_time
from switchboard_runtime.messaging.replays import dead_letter_of, give_back, replays_durable
from switchboard_runtime.settings import ServiceSettings

PICKY = ConsumerSpec(stream=specs.EVENTS.name, durable="replaytest__picky", filter_subjects=["sb.evt.*.message.*"],
                     max_deliver=2, ack_wait_seconds=5)
OTHER = ConsumerSpec(stream=specs.EVENTS.name, durable="replaytest__other", filter_subjects=["sb.evt.*.message.*"])


def received(i: int):
    data = MessageReceived(message_id=f"m{i}", provider_message_id=f"p{i}", sender_id="s", **{"from": "+4915100000001"},
                           to="+15550000000", timestamp="2026-05-01T00:00:00Z", type="text", text=f"hi {i}")
    return make_envelope(id=f"ev{i}", source="test", type=RECEIVED, orgid="acme", data=data)


class Picky:
    """Rejects the events named in `refuse` (as a handler does a message it cannot process)."""

    def __init__(self, refuse: set[str], reason: str = "no template for it"):
        self.refuse, self.reason = refuse, reason
        self.handled: list[tuple[str, str, int, type]] = []  # (event id, subject, stream seq, delivery class)

    async def handle(self, batch: list[Delivery]) -> BatchOutcome:
        out = BatchOutcome()
        for d in batch:
            ce = d.event()
            if ce.id in self.refuse:
                out.reject(d, self.reason)
            else:
                self.handled.append((ce.id, d.subject, d.stream_seq, type(d)))
        return out


async def until(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := await check():
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def letters(js: BusJetStream):
    out = []
    async for batch in StreamReader(js, specs.DEAD_LETTERS.name, ["sb.dlq.>"]).batches():
        out += [dead_letter_of(seq, m.subject, stored_time(ns), m.data, m.headers) for seq, ns, m in batch]
    return out


@pytest.fixture
async def js(nats_url: str):
    nc = await nats.connect(nats_url)
    yield BusJetStream(nc)
    await nc.close()


async def test_a_dead_letter_goes_back_to_its_consumer_only_and_once(nats_url: str, js: BusJetStream) -> None:
    picky, other = Picky({"ev3", "ev7"}), Picky(set())
    stop, ready = asyncio.Event(), asyncio.Event()

    async def wire(host: Host, settings: ServiceSettings) -> None:
        await host.bus()
        host.consumer(PICKY, picky.handle)
        host.consumer(OTHER, other.handle)
        host.step("ready", ready.set)

    service = asyncio.create_task(hosted("replay-test", ServiceSettings, wire)(
        stop, ServiceSettings(nats_url=nats_url, log_format="console")))
    try:
        await asyncio.wait_for(ready.wait(), 20)
        acks = [await js.publish("sb.evt.acme.message.received", received(i).to_json_bytes(),
                                 headers={"Nats-Msg-Id": f"ev{i}"}) for i in range(10)]
        seq_of = {f"ev{i}": a.seq for i, a in enumerate(acks)}
        dead = await until(lambda: _when(letters(js), lambda ds: len(ds) == 2))
        assert {(d.consumer, d.original_sequence, d.reason) for d in dead} == {
            ("replaytest__picky", seq_of["ev3"], "no template for it"),
            ("replaytest__picky", seq_of["ev7"], "no template for it")}
        await until(lambda: _now(len(other.handled) == 10 and len(picky.handled) == 8))

        # still broken for ev7: given back, it fails again and is a dead letter again, with the new reason
        picky.refuse, picky.reason = {"ev7"}, "still no template"
        for d in dead:
            await give_back(js, d)
        again = await until(lambda: _when(letters(js), lambda ds: len(ds) == 1 and ds[0].reason == "still no template"))
        assert again[0].original_sequence == seq_of["ev7"]
        assert again[0].original_subject == "sb.evt.acme.message.received"
        await until(lambda: _now(len(picky.handled) == 9))
        replayed = picky.handled[-1]
        assert replayed[:3] == ("ev3", "sb.evt.acme.message.received", seq_of["ev3"])  # reads as the original
        assert replayed[3].__name__ == "ReplayedDelivery"

        # fixed: given back once more, handled once; nothing left; the other consumer never saw a replay
        picky.refuse = set()
        await give_back(js, again[0])
        await until(lambda: _now(len(picky.handled) == 10))
        assert await letters(js) == []
        await asyncio.sleep(0.5)
        assert sorted(h[0] for h in picky.handled) == sorted(f"ev{i}" for i in range(10))
        assert len(other.handled) == 10
        info = await js.consumer_info(specs.REPLAYS.name, replays_durable("replay-test"))
        assert info.num_pending == 0 and info.num_ack_pending == 0
        assert sorted(info.config.filter_subjects) == ["sb.replay.replaytest__other", "sb.replay.replaytest__picky"]
        assert (await js.stream_info(specs.REPLAYS.name)).state.messages == 0  # a work queue: acked is gone
    finally:
        stop.set()
        await asyncio.wait_for(service, 20)


async def _when(coro, ok):
    value = await coro
    return value if ok(value) else None


async def _now(value: bool):
    return value
