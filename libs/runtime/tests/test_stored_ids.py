"""Reading which ids a stream stores (headers only, filtered, from a sequence or a time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import nats
from nats.js.api import StreamConfig

from switchboard_runtime.messaging.stored_ids import filters_for, stored_ids


def test_few_subjects_are_their_own_filters_many_share_wildcards():
    assert filters_for(["a.1.x", "a.2.y", "a.1.x"]) == ["a.1.x", "a.2.y"]
    many = [f"sb.evt.org{i}.sender.registered" for i in range(100)] + ["sb.evt.o.conversation.started",
                                                                       "short.one"]
    assert filters_for(many) == ["sb.evt.*.*.*", "short.one"]


async def test_ids_after_a_sequence_or_since_a_time_on_the_given_subjects(nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        await js.add_stream(StreamConfig(name="S", subjects=["s.>"]))
        for i in range(5):
            await js.publish(f"s.{i % 2}", b"x" * 10_000, headers={"Nats-Msg-Id": f"id-{i}"})
        await js.publish("s.other", b"", headers={"Nats-Msg-Id": "other"})
        assert await stored_ids(js, "S", ["s.0", "s.1"], after_seq=2) == {"id-2", "id-3", "id-4"}
        assert await stored_ids(js, "S", ["s.0"], after_seq=0) == {"id-0", "id-2", "id-4"}
        assert await stored_ids(js, "S", ["s.1"], after_seq=6) == set()
        since = datetime.now(UTC) - timedelta(minutes=1)
        assert await stored_ids(js, "S", ["s.other", "s.1"], since=since) == {"id-1", "id-3", "other"}
        assert await stored_ids(js, "S", ["s.0"], since=datetime.now(UTC) + timedelta(minutes=1)) == set()
        assert await stored_ids(js, "S", ["s.1"], batch=1) == {"id-1", "id-3"}
        assert [c async for c in _consumers(js)] == []  # nothing left behind
    finally:
        await nc.close()


async def _consumers(js):
    for info in await js.consumers_info("S"):
        yield info.name
