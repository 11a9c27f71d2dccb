"""Meta Cloud API senders against a local fake Graph API: credentials checked at registration, sends
with our id as biz_opaque_callback_data, and errors acted on by code (fail, retry, pause)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import nats
from sqlalchemy import create_engine, text

from switchboard_contracts import commands, message
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_runtime.sealing import Sealer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.fake_graph import running_fake_graph

from .helpers import collect_events, command, publish_command, running_session_pool, send_command


async def register_meta(js, org, sender_id, base_url, token="EAAB-good", pnid="106540352242922"):
    cmd = commands.RegisterSender(
        sender_id=sender_id, name="meta", provider="meta-cloud",
        config={"phone_number_id": pnid, "waba_id": "1022", "api_base_url": base_url,
                "api_version": "v23.0"},
        sealed_credentials=Sealer(TEST_SECRET_KEY).seal({"access_token": token, "app_secret": "s",
                                                          "verify_token": "v"}))
    ce = command(org, commands.REGISTER_SENDER, cmd)
    await js.publish(f"sb.cmd.{org}.sender.register", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})


async def open_window(js, database_url, org, sender_id, contacts, hours_ago: float = 1.0):
    """The contacts wrote to the sender (message.received, as webhook-ingest publishes it)."""
    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    for contact in contacts:
        data = message.MessageReceived(message_id=new_id(), provider_message_id=f"wamid.in.{new_id()}",
                                       sender_id=sender_id, **{"from": contact}, to="+15550001111",
                                       timestamp=at, type="text", text="hi")
        ce = make_envelope(id=new_id(), source="test", type=message.RECEIVED, orgid=org, data=data)
        await js.publish(f"sb.evt.{org}.message.received", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        for _ in range(100):
            with engine.connect() as conn:
                n = conn.execute(text("SELECT count(*) FROM session_pool.last_inbound WHERE sender_id = :s"),
                                 {"s": sender_id}).scalar_one()
            if n >= len(set(contacts)):
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the inbound messages were not recorded")
    finally:
        engine.dispose()


def statuses(events, mid):
    return [(e.data["status"], (e.data.get("error") or {}).get("code")) for e in events
            if e.type == "switchboard.message.status.v1" and e.data["message_id"] == mid]


async def test_credentials_are_checked_with_the_provider(nats_url, database_url):
    org, good, bad = new_id(), new_id(), new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        await register_meta(js, org, good, graph.url)
        await register_meta(js, org, bad, graph.url, token="EAAB-revoked")
        events = await collect_events(js, f"sb.evt.{org}.sender.>", lambda ev: len(
            [e for e in ev if e.type in ("switchboard.sender.connected.v1", "switchboard.sender.disconnected.v1")]) == 2)
    connected = next(e for e in events if e.type == "switchboard.sender.connected.v1")
    assert connected.subject == good and connected.data["phone_number"] == "+15550001111"
    disconnected = next(e for e in events if e.type == "switchboard.sender.disconnected.v1")
    assert disconnected.subject == bad and disconnected.data["code"] == 190
    assert "Invalid OAuth access token" in disconnected.data["reason"]
    assert all("EAAB" not in e.to_json_bytes().decode() for e in events)
    assert disconnected.data["retry_in_seconds"] is None  # refused credentials are not retried


async def test_a_number_meta_blocked_is_banned_and_does_not_send(nats_url, database_url):
    org, banned = new_id(), new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        graph.blocked.add("555000111")
        await register_meta(js, org, banned, graph.url, pnid="555000111")
        events = await collect_events(js, f"sb.evt.{org}.sender.banned", lambda ev: len(ev) == 1)
        assert events[0].data["code"] == 131031 and "banned" in events[0].data["reason"]
        await publish_command(js, send_command(org, banned, "+4915112345678"))
        await asyncio.sleep(1.0)
    assert graph.sent == []  # a banned sender's messages wait (until their time-to-live)


async def test_sends_and_acts_on_error_codes(nats_url, database_url):
    org, sid = new_id(), new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        await register_meta(js, org, sid, graph.url)
        await collect_events(js, f"sb.evt.{org}.sender.connected", lambda ev: len(ev) == 1)
        graph.errors = {"4915110000001": [131026], "4915110000002": [130429], "4915110000003": [131047]}
        await open_window(js, database_url, org, sid, [f"+491511000000{i}" for i in range(4)])
        msgs = [send_command(org, sid, f"+491511000000{i}", text=f"hello {i}") for i in range(4)]
        for ce in msgs:
            await publish_command(js, ce)
        ids = [ce.id for ce in msgs]
        events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: all(
            any(s in ("sent", "failed") for s, _ in statuses(ev, mid)) for mid in ids), timeout=20)
    assert statuses(events, ids[0])[0][0] == "sent"
    assert statuses(events, ids[1]) == [("failed", 131026)]  # undeliverable: failed with the provider's code
    assert statuses(events, ids[2])[0][0] == "sent"  # throughput limit: backed off, then sent
    assert statuses(events, ids[3]) == [("failed", 131047)]  # outside the 24-hour window: a template is needed
    posted = {b["biz_opaque_callback_data"]: b for b in graph.sent}
    assert set(posted) == {ids[0], ids[2]}  # each sent once
    assert posted[ids[0]]["to"] == "4915110000000" and posted[ids[0]]["text"] == {"body": "hello 0"}
    sent = next(e for e in events if e.data["message_id"] == ids[0] and e.data["status"] == "sent")
    assert sent.data["provider_message_id"].startswith("wamid.")


async def test_spam_signal_pauses_the_sender_and_the_message_waits(nats_url, database_url):
    org, sid = new_id(), new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        await register_meta(js, org, sid, graph.url)
        await collect_events(js, f"sb.evt.{org}.sender.connected", lambda ev: len(ev) == 1)
        graph.errors = {"4915110000009": [131048]}
        await open_window(js, database_url, org, sid, ["+4915110000009"])
        ce = send_command(org, sid, "+4915110000009")
        await publish_command(js, ce)
        paused = await collect_events(js, f"sb.evt.{org}.sender.paused", lambda ev: len(ev) == 1)
        assert paused[0].data["automatic"] is True and paused[0].data["code"] == 131048
        assert "Spam rate limit hit" in paused[0].data["reason"]
        assert graph.sent == []  # nothing went out while paused, and the message did not fail
        resume = command(org, commands.RESUME_SENDER, commands.ResumeSender(sender_id=sid))
        await js.publish(f"sb.cmd.{org}.sender.resume", resume.to_json_bytes(), headers={"Nats-Msg-Id": resume.id})
        events = await collect_events(js, f"sb.evt.{org}.message.status",
                                      lambda ev: ("sent", None) in statuses(ev, ce.id), timeout=20)
    assert statuses(events, ce.id) == [("sent", None)]
    assert [b["biz_opaque_callback_data"] for b in graph.sent] == [ce.id]


async def test_a_message_that_cannot_go_in_time_expires(nats_url, database_url):
    """A paused sender's message waits; past its time-to-live it fails as `expired` (never sent)."""
    org, sid = new_id(), new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        await register_meta(js, org, sid, graph.url)
        await collect_events(js, f"sb.evt.{org}.sender.connected", lambda ev: len(ev) == 1)
        pause = command(org, commands.PAUSE_SENDER, commands.PauseSender(sender_id=sid, reason="review"))
        await js.publish(f"sb.cmd.{org}.sender.pause", pause.to_json_bytes(), headers={"Nats-Msg-Id": pause.id})
        await collect_events(js, f"sb.evt.{org}.sender.paused", lambda ev: len(ev) == 1)
        await open_window(js, database_url, org, sid, ["+4915110000005"])
        ce = send_command(org, sid, "+4915110000005")
        ce = ce.model_copy(update={"data": {**ce.data, "ttl_seconds": 1}})
        await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.message.>", lambda ev: statuses(ev, ce.id), timeout=15)
    assert statuses(events, ce.id) == [("expired", "expired")]
    assert "switchboard.message.accepted.v1" in [e.type for e in events]  # it was queued meanwhile
    assert graph.sent == []


async def test_free_form_messages_only_inside_the_24_hour_window(nats_url, database_url):
    org, sid = new_id(), new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        await register_meta(js, org, sid, graph.url)
        await collect_events(js, f"sb.evt.{org}.sender.connected", lambda ev: len(ev) == 1)
        await open_window(js, database_url, org, sid, ["+4915110000021"], hours_ago=2)
        await open_window(js, database_url, org, sid, ["+4915110000022"], hours_ago=25)
        msgs = [send_command(org, sid, f"+49151100000{n}") for n in (21, 22, 23)]
        for ce in msgs:
            await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: all(
            statuses(ev, ce.id) for ce in msgs), timeout=15)
    inside, stale, never = (statuses(events, ce.id) for ce in msgs)
    assert inside == [("sent", None)]
    assert stale == never == [("failed", "outside_window")]
    assert [b["to"] for b in graph.sent] == ["4915110000021"]


async def test_a_hanging_sender_never_delays_another(nats_url, database_url):
    org, stuck, healthy = new_id(), new_id(), new_id()
    async with running_fake_graph() as graph:
        async with running_session_pool(nats_url, database_url) as js:
            await register_meta(js, org, stuck, graph.url, pnid="111111")
            await register_meta(js, org, healthy, graph.url, pnid="222222")
            await collect_events(js, f"sb.evt.{org}.sender.connected", lambda ev: len(ev) == 2)
            await open_window(js, database_url, org, stuck, ["+4915110000031"])
            await open_window(js, database_url, org, healthy, ["+4915110000032"])
            # both commands wait in the stream while the session-pool is down: one batch when it is back
            slow, fast = send_command(org, stuck, "+4915110000031"), send_command(org, healthy, "+4915110000032")
        graph.slow = {"111111": 8.0}  # every send of the stuck sender hangs for 8 s
        nc = await nats.connect(nats_url)
        for ce in (slow, fast):
            await publish_command(nc.jetstream(), ce)
        await nc.close()
        async with running_session_pool(nats_url, database_url) as js:
            events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: statuses(ev, slow.id))
    assert statuses(events, fast.id) == [("sent", None)] and statuses(events, slow.id) == [("sent", None)]
    # the healthy sender's message went while the other's hung (8 s), though it came second: an order,
    # not a time limit (one sender's sends after the other's would store the slow one's `sent` first)
    assert [e.data["message_id"] for e in events] == [fast.id, slow.id]
