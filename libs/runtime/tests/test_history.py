"""An organization's history read from a real JetStream (messaging/history.py): exactly its events, in
stream order, with their exact bytes; types, since, until and from-seq honoured; the read ends; the
audit export of it verifies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import nats
import pytest

from switchboard_contracts import message as msg
from switchboard_contracts.envelope import make_envelope
from switchboard_runtime import audit
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.declare import ensure_streams
from switchboard_runtime.messaging.history import audit_export, org_history, type_filters
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.settings import ServiceSettings

KEY = "history-test-key"


def _event(org: str, i: int, kind: str):
    if kind == "received":
        data = msg.MessageReceived(message_id=f"m{i}", provider_message_id=f"p{i}", sender_id="s",
                                   **{"from": "+4915100000001"}, to="+15550000000",
                                   timestamp=datetime(2026, 5, 1, tzinfo=UTC), type="text", text=f"hi {i}")
        return make_envelope(id=f"{org}-r{i}", source="test", type=msg.RECEIVED, orgid=org, data=data)
    data = msg.MessageStatus(message_id=f"m{i}", sender_id="s", recipient="+4915100000001", status="delivered",
                             timestamp=datetime(2026, 5, 1, tzinfo=UTC))
    return make_envelope(id=f"{org}-s{i}", source="test", type=msg.STATUS, orgid=org, data=data)


async def publish(js: BusJetStream, n: int, offset: int = 0) -> dict[str, list[tuple[int, str, bytes]]]:
    """n events per org, interleaved: (sequence, type, bytes) per org, in publish order."""
    pub = Publisher(js.connection, js)
    evs = [_event(org, offset + i, "received" if i % 3 else "status") for i in range(n) for org in ("acme", "beta")]
    seqs = await pub.publish_many_sequenced(evs)
    out: dict[str, list] = {"acme": [], "beta": []}
    for seq, ce in zip(seqs, evs, strict=True):
        out[ce.orgid].append((seq, ce.type, ce.to_json_bytes()))
    return out


@pytest.fixture
async def js(nats_url: str):
    nc = await nats.connect(nats_url)
    js = BusJetStream(nc)
    await ensure_streams(js, ServiceSettings(nats_url=nats_url))
    yield js
    await nc.close()


async def read(js, org, **kw):
    return [e async for e in org_history(js, org, **kw)]


async def test_an_orgs_history_is_its_events_in_order_with_their_exact_bytes(js) -> None:
    published = await publish(js, 300)
    got = await read(js, "acme")
    assert [(e.sequence, e.data) for e in got] == [(s, b) for s, _, b in published["acme"]]
    assert all(e.subject.startswith("sb.evt.acme.message.") for e in got)
    assert all(abs(e.time - datetime.now(UTC)) < timedelta(minutes=5) for e in got)
    assert [e.sequence for e in await read(js, "beta")] == [s for s, _, _ in published["beta"]]
    assert await read(js, "nobody") == []


async def test_types_from_seq_since_and_until(js) -> None:
    first = await publish(js, 100)
    await asyncio.sleep(0.05)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.05)
    second = await publish(js, 100, offset=100)
    acme = first["acme"] + second["acme"]

    statuses = await read(js, "acme", types=["message.status"])
    assert [e.sequence for e in statuses] == [s for s, t, _ in acme if t == msg.STATUS]
    assert [e.sequence for e in await read(js, "acme", types=["message.*", "message.status"])] == [s for s, _, _ in acme]
    assert [e.sequence for e in await read(js, "acme", types=["message"])] == [s for s, _, _ in acme]
    assert await read(js, "acme", types=["conversation.assigned"]) == []

    assert [e.sequence for e in await read(js, "acme", since=middle)] == [s for s, _, _ in second["acme"]]
    assert [e.sequence for e in await read(js, "acme", until=middle)] == [s for s, _, _ in first["acme"]]
    pivot = acme[150][0]
    assert [e.sequence for e in await read(js, "acme", from_seq=pivot)] == [s for s, _, _ in acme[150:]]
    both = await read(js, "acme", from_seq=pivot, until=middle, types=["message.received"])
    assert both == []  # from a sequence after `until`


async def test_the_read_ends_at_the_last_event_stored_when_it_began(js) -> None:
    published = await publish(js, 200)
    seen = []
    async for e in org_history(js, "acme"):
        if len(seen) == 10:
            await publish(js, 50, offset=1000)  # arrives during the read: not part of it
        seen.append(e.sequence)
    assert seen == [s for s, _, _ in published["acme"]]


async def test_a_large_history_crosses_many_pull_requests(js) -> None:
    published = await publish(js, 6000)  # more than two pull requests' worth for one org
    got = [e.sequence async for e in org_history(js, "beta")]
    assert got == [s for s, _, _ in published["beta"]]


def test_type_filters() -> None:
    assert type_filters("o1") == ["sb.evt.o1.>"]
    assert type_filters("o1", ["message.*", "message.received", "conversation.assigned"]) == [
        "sb.evt.o1.conversation.assigned", "sb.evt.o1.message.*"]
    assert type_filters("o1", ["sender", "*.created"]) == ["sb.evt.o1.*.created", "sb.evt.o1.sender.*"]
    for bad in (["a.b.c"], ["a b.c"], ["."], ["a.>.b"]):
        with pytest.raises(ValueError):
            type_filters("o1", bad)
    with pytest.raises(ValueError):
        type_filters("o.1")


async def test_the_audit_export_verifies_and_holds_exactly_the_range(js) -> None:
    await publish(js, 50)
    await asyncio.sleep(0.05)
    since = datetime.now(UTC)
    published = await publish(js, 120, offset=50)
    await asyncio.sleep(0.05)
    until = datetime.now(UTC)
    await publish(js, 30, offset=200)
    chunks = [c async for c in audit_export(js, "acme", since, until, KEY)]
    body = b"".join(chunks)
    assert all(c.endswith(b"\n") for c in chunks)
    lines = body.split(b"\n")
    result = audit.verify_lines(lines, public_key=audit.public_key_of(KEY))
    assert result.ok, result.problem
    assert result.records == 120
    records = [audit.parse_record(line, i) for i, line in enumerate(lines[1:-2], 1)]
    assert [(r.sequence, r.event) for r in records] == [(s, b) for s, _, b in published["acme"]]
    one_per_line = [c async for c in audit_export(js, "acme", since, until, KEY, one_per_line=True)]
    assert len(one_per_line) == 122 and audit.verify_lines(b"".join(one_per_line).split(b"\n"), secret_key=KEY).ok
    with pytest.raises(ValueError):
        [c async for c in audit_export(js, "acme", since, until, "")]
