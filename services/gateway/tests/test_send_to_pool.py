"""`POST /v1/messages` to a pool of senders: exactly one of sender_id, sender_ids, sender_pool; clear
4xx naming the field for unknown senders and pools that cannot send; the command names the pool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from switchboard_contracts import commands, sender
from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY

from .helpers import publish_event, running_gateway
from .test_api import eventually, new_org

TO = "+4915112345678"


async def add_sender(client, js, org_id: str, headers: dict, *, labels=(), connected=True, paused=False) -> str:
    """A sender in the read model, from the session-pool's events."""
    sid, now = new_id(), datetime.now(UTC)
    await publish_event(js, org_id, sender.REGISTERED, sender.SenderRegistered(
        sender_id=sid, name="s", provider="simulator", quotas={}, registered_at=now, labels=list(labels)),
        f"{sid}:1")
    if connected:
        await publish_event(js, org_id, sender.CONNECTED, sender.SenderConnected(sender_id=sid, connected_at=now),
                            f"{sid}:2")
    if paused:
        await publish_event(js, org_id, sender.PAUSED, sender.SenderPaused(
            sender_id=sid, reason="by a test", automatic=False, paused_at=now), f"{sid}:3")
    want = "paused" if paused else "connected" if connected else "registered"
    await eventually(lambda: client.get(f"/v1/senders/{sid}", headers=headers),
                     lambda r: r.status_code == 200 and r.json()["status"] == want)
    return sid


def field_error(r, field: str, status: int = 422, code: str = "validation_error") -> str:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["details"]["field"] == field, error
    return error["message"]


def unknown(r, field: str) -> str:  # a schema-valid body naming senders that do not exist: 404
    return field_error(r, field, 404, "not_found")


def unavailable(r, field: str) -> str:  # senders that exist but none can send now: 409
    return field_error(r, field, 409, "senders_unavailable")


async def test_a_message_names_exactly_one_sender_or_pool(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        sid = await add_sender(client, js, org.id, headers, labels=["sales"])
        r = await client.post("/v1/messages", headers=headers, json={"to": TO, "text": "hi"})
        assert "one of sender_id, sender_ids or sender_pool" in field_error(r, "sender_id")
        named = {f["field"] for f in r.json()["error"]["details"]["fields"]}
        assert named == {"sender_id", "sender_ids", "sender_pool"}
        r = await client.post("/v1/messages", headers=headers,
                              json={"sender_id": sid, "sender_pool": "sales", "to": TO, "text": "hi"})
        assert field_error(r, "sender_id") == "name only one of sender_id, sender_pool"
        r = await client.post("/v1/messages", headers=headers,
                              json={"sender_ids": [sid], "sender_pool": "sales", "to": TO, "text": "hi"})
        assert field_error(r, "sender_ids") == "name only one of sender_ids, sender_pool"
        for bad in ({"sender_ids": []}, {"sender_ids": [sid] * 101}, {"sender_pool": "no spaces"}):
            r = await client.post("/v1/messages", headers=headers, json={**bad, "to": TO, "text": "hi"})
            assert r.status_code == 422 and r.json()["error"]["details"]["fields"][0]["field"].startswith(
                next(iter(bad))), r.text
        r = await client.post("/v1/messages", headers=headers, json={"sender_ids": [sid, sid], "to": TO, "text": "hi"})
        assert "more than once" in field_error(r, "sender_ids")


async def test_unknown_senders_and_pools_that_cannot_send_are_refused(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        other, other_headers = await new_org(orgs, "Other")
        ready = await add_sender(client, js, org.id, headers, labels=["sales"])
        paused = await add_sender(client, js, org.id, headers, labels=["night"], paused=True)
        offline = await add_sender(client, js, org.id, headers, labels=["night"], connected=False)
        theirs = await add_sender(client, js, other.id, other_headers, labels=["vip"])
        missing = new_id()

        r = await client.post("/v1/messages", headers=headers,
                              json={"sender_ids": [ready, missing, theirs], "to": TO, "text": "hi"})
        message = unknown(r, "sender_ids")  # another organization's sender is as unknown as a missing one
        assert r.json()["error"]["details"]["unknown"] == [missing, theirs] and missing in message
        r = await client.post("/v1/messages", headers=headers,
                              json={"sender_ids": [paused, offline], "to": TO, "text": "hi"})
        assert "none is connected and not paused" in unavailable(r, "sender_ids")
        r = await client.post("/v1/messages", headers=headers, json={"sender_pool": "night", "to": TO, "text": "hi"})
        assert "none is connected and not paused" in unavailable(r, "sender_pool")
        for label in ("nobody", "vip"):  # no such label here (another organization's does not count)
            r = await client.post("/v1/messages", headers=headers, json={"sender_pool": label, "to": TO, "text": "hi"})
            assert f"no sender carries the label '{label}'" == unknown(r, "sender_pool")
        r = await client.post("/v1/messages", headers=headers, json={"sender_id": missing, "to": TO, "text": "hi"})
        assert r.status_code == 404  # one sender, as before


async def test_pool_messages_become_pool_commands(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        a = await add_sender(client, js, org.id, headers, labels=["sales"])
        b = await add_sender(client, js, org.id, headers, paused=True)
        by_ids = await client.post("/v1/messages", headers=headers, json={"sender_ids": [b, a], "to": TO, "text": "1"})
        by_label = await client.post("/v1/messages", headers=headers,
                                     json={"sender_pool": "sales", "to": TO, "text": "2"})
        one = await client.post("/v1/messages", headers=headers, json={"sender_id": a, "to": TO, "text": "3"})
        assert by_ids.status_code == by_label.status_code == one.status_code == 202, by_ids.text
        sub = await js.pull_subscribe(f"sb.cmd.{org.id}.message.send", durable="test_pool_send",
                                      stream="SWITCHBOARD_COMMANDS")
        cmds = {}
        for _ in range(20):  # bounded: the outbox publishes each send's command just after its 202
            for m in await sub.fetch(3, timeout=REPLY):
                c = CloudEvent.from_json_bytes(m.data)
                cmds[c.id] = commands.SendMessage.model_validate(c.data)
            if len(cmds) >= 3:
                break
        assert cmds[by_ids.json()["id"]].pool.sender_ids == [b, a] and cmds[by_ids.json()["id"]].sender_id is None
        assert cmds[by_label.json()["id"]].pool.label == "sales"
        assert cmds[one.json()["id"]].sender_id == a and cmds[one.json()["id"]].pool is None


async def test_a_pool_message_shows_the_sender_that_sent_it(nats_url, database_url):
    """A pool message that waited is announced with a provisional sender; its `sent` status names the
    sender chosen, which the message then shows, and provider statuses keyed by that sender find it."""
    from datetime import timedelta

    from switchboard_contracts import message

    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        announced, chosen, mid, t0 = new_id(), new_id(), new_id(), datetime.now(UTC)
        await publish_event(js, org.id, message.ACCEPTED, message.MessageAccepted(
            message_id=mid, sender_id=announced, to=TO, text="hi", timestamp=t0), f"{mid}:accepted")
        await eventually(lambda: client.get(f"/v1/messages/{mid}", headers=headers), lambda r: r.status_code == 200)
        # the provider's delivered (known by its id and sender only) comes before our `sent`
        await publish_event(js, org.id, message.STATUS, message.MessageStatus(
            message_id=None, provider_message_id="wamid.P1", sender_id=chosen, recipient=TO, status="delivered",
            timestamp=t0 + timedelta(seconds=2)), "p1:delivered")
        await asyncio.sleep(0.5)  # kept aside until the message's provider id is known
        await publish_event(js, org.id, message.STATUS, message.MessageStatus(
            message_id=mid, provider_message_id="wamid.P1", sender_id=chosen, recipient=TO, status="sent",
            timestamp=t0 + timedelta(seconds=1)), f"{mid}:sent")
        got = await eventually(lambda: client.get(f"/v1/messages/{mid}", headers=headers),
                               lambda r: r.status_code == 200 and r.json()["status"] == "delivered")
        assert got.json()["sender_id"] == chosen
        await publish_event(js, org.id, message.STATUS, message.MessageStatus(
            message_id=None, provider_message_id="wamid.P1", sender_id=chosen, recipient=TO, status="read",
            timestamp=t0 + timedelta(seconds=3)), "p1:read")
        got = await eventually(lambda: client.get(f"/v1/messages/{mid}", headers=headers),
                               lambda r: r.json()["status"] == "read")
        assert [s["status"] for s in got.json()["statuses"]] == ["queued", "sent", "delivered", "read"]
