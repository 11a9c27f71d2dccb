"""Projection rebuild benchmark, on a freshly started embedded NATS and PostgreSQL: EVENTS message events
(for each message `message.accepted`, then `sent`, `delivered` and `read` statuses, as the session-pool
publishes them; a message.received for every fourth, the contacts spread over CONTACTS conversations in
two organizations) and a few `sender.registered` are published to SWITCHBOARD_EVENTS; then

(a) baseline: the history reader (`messaging/history.py`) reads the same events doing nothing: events/s;
(b) `make rebuild-projections`'s two rebuilds — the conversations service's (messages, conversations:
    `python -m switchboard_conversations.rebuild`) and the gateway's (senders) — replayed events/s of wall
    time, each the whole rebuild (migrations, truncation, replay, what follows it).

Every number is measured in this run; the ratio (b)/(a) is reported. `BENCH_REBUILD_EVENTS` (200000),
`BENCH_REBUILD_CONTACTS` (20000). Results in bench/results/rebuild.json."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats

from switchboard_contracts import message as msg, sender as sender_contract, streams
from switchboard_contracts.envelope import encode_envelope
from switchboard_contracts.ids import new_id
from switchboard_conversations.rebuild import rebuild as rebuild_conversations
from switchboard_conversations.settings import ConversationsSettings
from switchboard_devkit.nats_server import NatsServer
from switchboard_devkit.postgres_server import PostgresServer
from switchboard_gateway.cli import rebuild_projections as rebuild_gateway
from switchboard_gateway.settings import GatewaySettings
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.declare import ensure_streams
from switchboard_runtime.messaging.history import StreamReader
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.settings import ServiceSettings

from .report import print_table, write_result

EVENTS = int(os.environ.get("BENCH_REBUILD_EVENTS", "200000"))
CONTACTS = int(os.environ.get("BENCH_REBUILD_CONTACTS", "20000"))
T0 = datetime(2026, 11, 1, tzinfo=UTC)
CHUNK = 2000


def history(orgs: list[str], senders: list[str]):
    """The events, in publish order: a sender.registered per sender, then the messages' events."""
    for org, sender in zip(orgs, senders, strict=True):
        data = sender_contract.SenderRegistered(sender_id=sender, name="bench", provider="simulator",
                                                quotas=sender_contract.Quotas(), phone_number="+15550000000",
                                                registered_at=T0)
        yield encode_envelope(id=f"{sender}:1", source="bench", type=sender_contract.REGISTERED, orgid=org,
                              data=data, subject=sender)
    made, i = len(orgs), 0
    while made < EVENTS:
        org, sender = orgs[i % 2], senders[i % 2]
        mid, to, at = new_id(), f"+49151{i % CONTACTS:08d}", T0 + timedelta(seconds=i)
        yield encode_envelope(id=f"{mid}:accepted", source="bench", type=msg.ACCEPTED, orgid=org, data=msg.MessageAccepted(
            message_id=mid, sender_id=sender, to=to, text=f"order {i} shipped", timestamp=at))
        for n, status in enumerate(("sent", "delivered", "read"), 1):
            yield encode_envelope(id=f"{mid}:status:{status}", source="bench", type=msg.STATUS, orgid=org,
                                  data=msg.MessageStatus(message_id=mid, sender_id=sender, recipient=to, status=status,
                                                         timestamp=at + timedelta(seconds=n)))
        made += 4
        if i % 4 == 0:
            yield encode_envelope(id=f"{mid}:in", source="bench", type=msg.RECEIVED, orgid=org, data=msg.MessageReceived(
                message_id=new_id(), provider_message_id=mid, sender_id=sender, **{"from": to}, to="+15550000000",
                timestamp=at + timedelta(seconds=5), type="text", text="thanks"))
            made += 1
        i += 1


async def publish(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    js = BusJetStream(nc)
    await ensure_streams(js, ServiceSettings(nats_url=nats_url))
    publisher, batch, total = Publisher(nc, js), [], 0
    for envelope in history([new_id(), new_id()], [new_id(), new_id()]):
        batch.append(envelope)
        if len(batch) == CHUNK:
            await publisher.publish_many(batch)
            total, batch = total + len(batch), []
    if batch:
        await publisher.publish_many(batch)
        total += len(batch)
    await nc.close()
    return total


async def bare_read(nats_url: str) -> tuple[int, float]:
    nc = await nats.connect(nats_url)
    js = BusJetStream(nc)
    began, count = time.perf_counter(), 0
    async for batch in StreamReader(js, streams.EVENTS.name, streams.CONVERSATIONS_HISTORY.filter_subjects).batches():
        count += len(batch)
    seconds = time.perf_counter() - began
    await nc.close()
    return count, seconds


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="sb-bench-rebuild-"))
    nats_server = NatsServer(root / "nats").start()
    postgres = PostgresServer(root / "pg", durable=True).start()
    try:
        published = await publish(nats_server.url)
        read, read_seconds = await bare_read(nats_server.url)
        env = dict(nats_url=nats_server.url, database_url=postgres.url, log_format="console")
        began = time.perf_counter()
        conversations = await rebuild_conversations(ConversationsSettings(**env))
        conv_seconds = time.perf_counter() - began
        began = time.perf_counter()
        gateway = await rebuild_gateway(GatewaySettings(**env))
        gw_seconds = time.perf_counter() - began
    finally:
        postgres.stop()
        nats_server.stop()
        shutil.rmtree(root, ignore_errors=True)
    base = read / read_seconds
    rate = conversations["replayed_events"] / conv_seconds
    write_result("rebuild", rate, "events/s, conversations rebuild (whole)", base, {
        "published": published, "baseline_read": read, "baseline_seconds": round(read_seconds, 2),
        "conversations": conversations, "conversations_seconds": round(conv_seconds, 2), "gateway": gateway,
        "gateway_seconds": round(gw_seconds, 2)})
    print_table([
        ("published", f"{published:,} events"),
        ("(a) bare read (history reader)", f"{base:,.0f} events/s ({read:,} in {read_seconds:.2f} s)"),
        ("(b) conversations rebuild", f"{rate:,.0f} events/s ({conversations['replayed_events']:,} in {conv_seconds:.2f} s)"),
        ("(b)/(a)", f"{rate / base:.3f}"),
        ("gateway rebuild", f"{gateway['replayed_events']:,} sender events in {gw_seconds:.2f} s"),
    ])


if __name__ == "__main__":
    asyncio.run(main())
