"""The session-pool against real NATS JetStream and PostgreSQL: register, send, statuses, failure,
dedupe of a redelivered command, quota waiting, dead letters."""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine, text

from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY

from .helpers import (collect_events, invalid_send_command, publish_command, register_simulator,
                      running_session_pool, send_command)


def statuses_of(events, message_id):
    return [e.data["status"] for e in events
            if e.type == "switchboard.message.status.v1" and e.data["message_id"] == message_id]


async def test_message_goes_sent_delivered_read(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sender)
        ce = send_command(org, sender, "+4915112345678")
        await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.>",
                                      lambda ev: "read" in statuses_of(ev, ce.id))
    types = [e.type for e in events]
    assert "switchboard.sender.registered.v1" in types
    assert "switchboard.sender.connected.v1" in types
    assert statuses_of(events, ce.id) == ["sent", "delivered", "read"]
    accepted = [e for e in events if e.type == "switchboard.message.accepted.v1"]
    assert accepted[0].data["text"] == "hello"
    sent = [e for e in events if e.data.get("status") == "sent"][0]
    assert sent.data["provider_message_id"].startswith("wamid.SIM.")
    assert sent.causationid == ce.id and sent.subject == ce.id


async def test_number_ending_0000_fails_with_131026(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sender)
        ce = send_command(org, sender, "+4915112340000")
        await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.message.status",
                                      lambda ev: "failed" in statuses_of(ev, ce.id))
    failed = [e for e in events if e.data["status"] == "failed"][0]
    assert failed.data["error"]["code"] == 131026
    assert failed.data["error"]["title"] == "Message undeliverable"


async def test_redelivered_command_is_not_sent_twice(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sender)
        ce = send_command(org, sender, "+4915112345678")
        await publish_command(js, ce)
        await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: "sent" in statuses_of(ev, ce.id))
        # The same command again, past the stream's duplicate detection (another Nats-Msg-Id).
        await publish_command(js, ce, msg_id="redelivery-" + ce.id)
        await asyncio.sleep(1.0)
        info = await js.consumer_info("SWITCHBOARD_COMMANDS", "session_pool__send")
        assert info.num_pending == 0 and info.num_ack_pending == 0
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        sends = conn.execute(text("SELECT count(*) FROM session_pool.simulator_sends WHERE message_id = :m"),
                             {"m": ce.id}).scalar()
    engine.dispose()
    assert sends == 1


async def test_over_quota_waits_and_is_neither_dropped_nor_failed(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sender, per_minute=2)
        cmds = [send_command(org, sender, f"+49151123456{i:02d}") for i in range(3)]
        for ce in cmds:
            await publish_command(js, ce)
        events = await collect_events(
            js, f"sb.evt.{org}.message.status",
            lambda ev: sum("sent" in statuses_of(ev, c.id) for c in cmds) >= 2)
        await asyncio.sleep(1.0)
        info = await js.consumer_info("SWITCHBOARD_COMMANDS", "session_pool__send")
        subject = f"sb.evt.{org}.message.status"
        stored = (await js.stream_info("SWITCHBOARD_EVENTS", subjects_filter=subject)).state.subjects[subject]
        # every status stored by now (each sent message's `sent`, and the simulator's delivered and read)
        events = await collect_events(js, subject, lambda ev: len(ev) >= stored)
    sent = [c.id for c in cmds if "sent" in statuses_of(events, c.id)]
    assert len(sent) == 2
    third = next(c for c in cmds if c.id not in sent)
    assert statuses_of(events, third.id) == []  # waiting: not failed, not dropped
    assert info.num_ack_pending == 1  # held un-acked, to be sent when the window frees


async def test_invalid_command_is_dead_lettered_and_its_message_failed(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sender)
        mid = new_id()
        await js.publish(f"sb.cmd.{org}.message.send", invalid_send_command(org, sender, mid))
        events = await collect_events(js, f"sb.evt.{org}.message.status",
                                      lambda ev: "failed" in statuses_of(ev, mid))
        dlq = await js.subscribe("sb.dlq.session_pool__send", stream="SWITCHBOARD_DEAD_LETTERS",
                                 ordered_consumer=True)
        msg = await dlq.next_msg(timeout=REPLY)
    assert "invalid send command" in msg.headers["Switchboard-Dead-Letter-Reason"]
    failed = [e for e in events if e.data["status"] == "failed"][0]
    assert failed.data["error"]["code"] == "unprocessable_command"
