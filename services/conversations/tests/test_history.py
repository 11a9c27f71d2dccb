"""The conversations service against real NATS JetStream and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import nats
import pytest
from sqlalchemy import create_engine, text

from switchboard_contracts import message
from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import deterministic_id, new_id
from switchboard_conversations.main import serve
from switchboard_conversations.settings import ConversationsSettings
from switchboard_devkit.testing.patience import REPLY
from switchboard_devkit.testing.ports import server_port
from switchboard_devkit.testing.service import running_service

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def running(nats_url, database_url):
    settings = ConversationsSettings(nats_url=nats_url, database_url=database_url, log_format="console",
                                     conversations_port=server_port())
    return running_service(serve, settings, "SWITCHBOARD_EVENTS", "conversations__history")


async def publish(js, org, data, type_, msg_id=None):
    ce = make_envelope(id=deterministic_id(type_, data.model_dump_json()), source="test", type=type_,
                       orgid=org, data=data)
    entity_event = ".".join(type_.split(".")[1:3])
    await js.publish(f"sb.evt.{org}.{entity_event}", ce.to_json_bytes(),
                     headers={"Nats-Msg-Id": msg_id or ce.id})


def accepted(mid, sender, to="+4915112345678"):
    return message.MessageAccepted(message_id=mid, sender_id=sender, to=to, text="hi", timestamp=T0)


def status(mid, sender, st, minutes, to="+4915112345678"):
    return message.MessageStatus(message_id=mid, sender_id=sender, recipient=to, status=st,
                                 timestamp=T0 + timedelta(minutes=minutes))


def rows(database_url, sql, **params):
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        result = [dict(r._mapping) for r in conn.execute(text(sql), params)]
    engine.dispose()
    return result


async def eventually(fn, predicate, timeout=REPLY):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = fn()
        if predicate(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {value}"
        await asyncio.sleep(0.1)


async def test_inbound_messages_open_one_conversation(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running(nats_url, database_url) as js:
        for i in range(2):
            await publish(js, org, message.MessageReceived(
                message_id=f"in-{i}-{org}", provider_message_id=f"wamid.{i}", sender_id=sender,
                **{"from": "+4915112345678"}, to="+15550000001", timestamp=T0 + timedelta(seconds=i),
                type="text", text=f"hello {i}", contact_name="Ann"), message.RECEIVED)
        history = await eventually(
            lambda: rows(database_url, "SELECT * FROM conversations.conversation_messages WHERE org_id=:o "
                         "ORDER BY created_at", o=org), lambda r: len(r) == 2)
        sub = await js.subscribe(f"sb.evt.{org}.conversation.started", ordered_consumer=True,
                                 stream="SWITCHBOARD_EVENTS")
        first = await sub.next_msg(timeout=REPLY)
        try:
            await sub.next_msg(timeout=1)
            raise AssertionError("conversation.started published twice")
        except nats.errors.TimeoutError:
            pass
    cid = conversation_id(org, sender, "+4915112345678")
    assert {r["conversation_id"] for r in history} == {cid}
    assert [r["text"] for r in history] == ["hello 0", "hello 1"]
    assert all(r["direction"] == "inbound" for r in history)
    assert b'"contact_name":"Ann"' in first.data and cid.encode() in first.data


async def test_a_conversation_starts_when_the_contact_first_writes(nats_url, database_url):
    """Outbound messages alone (a campaign's recipient who has not replied) are in the history and the
    conversations list, but start no Conversation: its `conversation.started` (same id, the time of its
    first message) comes with the contact's first message."""
    org, sender, mid = new_id(), new_id(), new_id()
    cid = conversation_id(org, sender, "+4915112345678")
    async with running(nats_url, database_url) as js:
        sub = await js.subscribe(f"sb.evt.{org}.conversation.started", ordered_consumer=True,
                                 stream="SWITCHBOARD_EVENTS")
        await publish(js, org, accepted(mid, sender), message.ACCEPTED)
        await publish(js, org, status(mid, sender, "sent", 1), message.STATUS)
        await eventually(lambda: rows(database_url, "SELECT * FROM conversations.conversation_messages "
                                      "WHERE message_id=:m AND status='sent'", m=mid), bool)
        assert [r["id"] for r in rows(database_url, "SELECT id FROM conversations.conversations WHERE org_id=:o",
                                      o=org)] == [cid]
        with pytest.raises(nats.errors.TimeoutError):
            await sub.next_msg(timeout=1.5)  # the starter polls every second: it would have started it
        await publish(js, org, message.MessageReceived(
            message_id=f"in-{org}", provider_message_id="wamid.in", sender_id=sender, **{"from": "+4915112345678"},
            to="+15550000001", timestamp=T0 + timedelta(minutes=5), type="text", text="hello"), message.RECEIVED)
        started = json.loads((await sub.next_msg(timeout=REPLY)).data)
        with pytest.raises(nats.errors.TimeoutError):
            await sub.next_msg(timeout=1)
    assert started["subject"] == cid and started["data"]["conversation_id"] == cid
    assert datetime.fromisoformat(started["data"]["started_at"]) == T0  # when its first (outbound) message was


async def test_out_of_order_statuses_end_at_the_furthest(nats_url, database_url):
    org, sender, mid = new_id(), new_id(), new_id()
    async with running(nats_url, database_url) as js:
        await publish(js, org, accepted(mid, sender), message.ACCEPTED)
        for st, minute in (("read", 3), ("sent", 1), ("delivered", 2)):
            await publish(js, org, status(mid, sender, st, minute), message.STATUS)
        row = (await eventually(
            lambda: rows(database_url, "SELECT * FROM conversations.conversation_messages WHERE message_id=:m",
                         m=mid), lambda r: r and len(r[0]["statuses"]) == 4))[0]
    assert row["status"] == "read"
    assert [s["status"] for s in row["statuses"]] == ["queued", "sent", "delivered", "read"]


async def test_status_before_its_message_is_applied_when_it_appears(nats_url, database_url):
    org, sender, mid = new_id(), new_id(), new_id()
    async with running(nats_url, database_url) as js:
        await publish(js, org, status(mid, sender, "delivered", 2), message.STATUS)
        await eventually(lambda: rows(database_url, "SELECT * FROM conversations.pending_statuses "
                                      "WHERE message_id=:m", m=mid), lambda r: len(r) == 1)
        await publish(js, org, accepted(mid, sender), message.ACCEPTED)
        row = (await eventually(
            lambda: rows(database_url, "SELECT * FROM conversations.conversation_messages WHERE message_id=:m",
                         m=mid), lambda r: r and r[0]["status"] == "delivered"))[0]
        assert rows(database_url, "SELECT * FROM conversations.pending_statuses WHERE message_id=:m", m=mid) == []
    assert [s["status"] for s in row["statuses"]] == ["queued", "delivered"]


async def test_a_redelivered_status_changes_nothing(nats_url, database_url):
    org, sender, mid = new_id(), new_id(), new_id()
    query = "SELECT status, statuses, updated_at FROM conversations.conversation_messages WHERE message_id=:m"
    async with running(nats_url, database_url) as js:
        await publish(js, org, accepted(mid, sender), message.ACCEPTED)
        await publish(js, org, status(mid, sender, "sent", 1), message.STATUS)
        before = (await eventually(lambda: rows(database_url, query, m=mid),
                                   lambda r: r and r[0]["status"] == "sent"))[0]
        # the same event again, with another Nats-Msg-Id so JetStream stores it a second time
        await publish(js, org, status(mid, sender, "sent", 1), message.STATUS, msg_id="again-" + mid)
        await publish(js, org, accepted(mid, sender), message.ACCEPTED, msg_id="again-acc-" + mid)
        marker = new_id()
        await publish(js, org, accepted(marker, sender), message.ACCEPTED)  # processed after the repeats
        await eventually(lambda: rows(database_url, query, m=marker), lambda r: len(r) == 1)
        after = rows(database_url, query, m=mid)[0]
    assert after == before


async def test_garbage_goes_to_the_dead_letter_stream(nats_url, database_url):
    org = new_id()
    async with running(nats_url, database_url) as js:
        await js.publish(f"sb.evt.{org}.message.received", b"this is not json")
        sub = await js.subscribe("sb.dlq.conversations__history", ordered_consumer=True,
                                 stream="SWITCHBOARD_DEAD_LETTERS")
        dead = await sub.next_msg(timeout=REPLY)
    assert dead.data == b"this is not json"
    assert "CloudEvents" in dead.headers["Switchboard-Dead-Letter-Reason"]


async def test_an_invalid_status_goes_to_the_dead_letter_stream_and_the_valid_ones_are_applied(
        nats_url, database_url):
    org, sender, mid = new_id(), new_id(), new_id()
    bad = make_envelope(id=new_id(), source="test", type=message.STATUS, orgid=org,
                        data=status(mid, sender, "sent", 1)).model_dump(mode="json")
    bad["data"]["status"] = "bogus"
    async with running(nats_url, database_url) as js:
        await publish(js, org, accepted(mid, sender), message.ACCEPTED)
        await js.publish(f"sb.evt.{org}.message.status", json.dumps(bad).encode())
        await js.publish(f"sb.evt.{org}.message.status", b"not json either")
        await publish(js, org, status(mid, sender, "delivered", 2), message.STATUS)
        sub = await js.subscribe("sb.dlq.conversations__history", ordered_consumer=True,
                                 stream="SWITCHBOARD_DEAD_LETTERS")
        first, second = await sub.next_msg(timeout=REPLY), await sub.next_msg(timeout=REPLY)
        [row] = await eventually(
            lambda: rows(database_url, "SELECT status FROM conversations.conversation_messages WHERE message_id=:m",
                         m=mid), lambda r: r and r[0]["status"] == "delivered")
    assert json.loads(first.data)["data"]["status"] == "bogus"
    assert "status" in first.headers["Switchboard-Dead-Letter-Reason"]
    assert second.data == b"not json either"


async def test_statuses_known_only_by_provider_id_wait_for_it(nats_url, database_url):
    """WAHA acks (and Meta statuses without our id) name only the provider message id: delivered
    and read arriving before the session-pool's `sent` (which carries that id) are applied then."""
    org, sender, mid = new_id(), new_id(), new_id()

    def by_provider(st, minutes):
        return message.MessageStatus(message_id=None, provider_message_id="true_4915112345678@c.us_AB12",
                                     sender_id=sender, recipient="+4915112345678", status=st,
                                     timestamp=T0 + timedelta(minutes=minutes))

    async with running(nats_url, database_url) as js:
        await publish(js, org, accepted(mid, sender), message.ACCEPTED)
        await publish(js, org, by_provider("read", 3), message.STATUS)
        await publish(js, org, by_provider("delivered", 2), message.STATUS)
        marker = new_id()
        await publish(js, org, accepted(marker, sender), message.ACCEPTED)  # applied after the two statuses
        await eventually(lambda: rows(database_url, "SELECT 1 FROM conversations.conversation_messages "
                                      "WHERE message_id=:m", m=marker), lambda r: len(r) == 1)
        [row] = rows(database_url, "SELECT * FROM conversations.conversation_messages WHERE message_id=:m", m=mid)
        assert row["status"] == "queued"  # nothing yet ties the provider id to our message
        sent = status(mid, sender, "sent", 1)
        sent.provider_message_id = "true_4915112345678@c.us_AB12"
        await publish(js, org, sent, message.STATUS)
        [row] = await eventually(
            lambda: rows(database_url, "SELECT * FROM conversations.conversation_messages WHERE message_id=:m",
                         m=mid), lambda r: r and r[0]["status"] == "read")
        assert [s["status"] for s in row["statuses"]] == ["queued", "sent", "delivered", "read"]
        # a later provider status resolves directly
        await publish(js, org, by_provider("played", 4), message.STATUS)
        await eventually(
            lambda: rows(database_url, "SELECT status FROM conversations.conversation_messages WHERE "
                         "message_id=:m", m=mid), lambda r: r[0]["status"] == "played")
        assert rows(database_url, "SELECT * FROM conversations.pending_statuses") == []
