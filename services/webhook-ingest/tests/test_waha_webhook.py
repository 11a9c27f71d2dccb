"""POST /webhooks/waha against a real NATS JetStream: routing by session, HMAC, dedupe by WAHA's event
id and by message id (+ ack)."""

from __future__ import annotations

from switchboard_contracts import message, sender
from switchboard_contracts.ids import new_id

from .helpers import add_route, body_of, events, running_ingest, stream_messages, waha_signature
from .payloads import waha_ack, waha_envelope, waha_message, waha_session_status


async def waha_sender(nats_url, session="shop", **secrets):
    org, sender_id = new_id(), new_id()
    await add_route(nats_url, "waha", session, org, sender_id, **secrets)
    return org, sender_id


async def test_messages_acks_and_session_status(nats_url):
    org, sender_id = await waha_sender(nats_url)
    posts = [
        waha_envelope("message", waha_message(message_id="M1", body="hola"), session="shop", event_id="evt_1"),
        waha_envelope("message", waha_message(message_id="M2", body="hola"), session="shop", event_id="evt_2"),
        waha_envelope("message.ack", waha_ack(message_id="O1", ack=0), session="shop", event_id="evt_3"),
        waha_envelope("message.ack", waha_ack(message_id="O1", ack=2), session="shop", event_id="evt_4"),
        waha_envelope("message.ack", waha_ack(message_id="O1", ack=3), session="shop", event_id="evt_5"),
        waha_envelope("message.ack", waha_ack(message_id="O2", ack=-1), session="shop", event_id="evt_6"),
        waha_envelope("session.status", waha_session_status("WORKING"), session="shop", event_id="evt_7"),
        waha_envelope("presence.update", {"id": "x"}, session="shop", event_id="evt_8"),
    ]
    async with running_ingest(nats_url) as client:
        answers = [(await client.post("/webhooks/waha", json=p)).json()["published"] for p in posts]
        assert answers == [1, 1, 0, 1, 1, 1, 1, 0]
        # WAHA retries the same event; and the same ack can come again under a new event id
        assert (await client.post("/webhooks/waha", json=posts[3])).json()["duplicates"] == 1
        again = waha_envelope("message.ack", waha_ack(message_id="O1", ack=3), session="shop", event_id="evt_9")
        assert (await client.post("/webhooks/waha", json=again)).json()["duplicates"] == 1
    published = await events(nats_url, org)
    assert [(e.type, e.data.get("status")) for e in published] == [
        (message.RECEIVED, None), (message.RECEIVED, None), (message.STATUS, "delivered"),
        (message.STATUS, "read"), (message.STATUS, "failed"), (sender.SESSION_STATUS, "WORKING")]
    assert {e.data["sender_id"] for e in published} == {sender_id}
    assert published[0].data["from"] == "+16505551234" and published[0].data["text"] == "hola"


async def test_hmac_is_required_when_the_sender_has_a_key(nats_url):
    org, _ = await waha_sender(nats_url, webhook_hmac_key="hmac-key")
    body = body_of(waha_envelope("message", waha_message(message_id="M1"), session="shop"))
    async with running_ingest(nats_url) as client:
        for headers in ({"Content-Type": "application/json"}, waha_signature("wrong", body)):
            r = await client.post("/webhooks/waha", content=body, headers=headers)
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert await events(nats_url, org) == []
        r = await client.post("/webhooks/waha", content=body, headers=waha_signature("hmac-key", body))
        assert r.status_code == 200 and r.json()["published"] == 1


async def test_unknown_session_is_quarantined_and_bad_input_rejected(nats_url):
    org, _ = await waha_sender(nats_url)
    async with running_ingest(nats_url) as client:
        stray = body_of(waha_envelope("message", waha_message(message_id="M1"), session="nobody"))
        r = await client.post("/webhooks/waha", content=stray, headers={"Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["quarantined"] is True
        for raw in (b"{not json", b'{"event": "message"}', body_of(
                waha_envelope("message.ack", {"id": "x", "ack": "soon"}, session="shop"))):
            r = await client.post("/webhooks/waha", content=raw, headers={"Content-Type": "application/json"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_delivery", raw
    kept = await stream_messages(nats_url, "sb.quarantine.waha", stream="SWITCHBOARD_QUARANTINE")
    assert [m.data for m in kept] == [stray]
    assert await events(nats_url, org) == []
