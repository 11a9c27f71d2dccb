"""The conversations service owns messages, reads included (as `make run` runs the platform): a
message accepted by `POST /v1/messages` or `/v1/messages/bulk` can be read at once; an
Idempotency-Key answers a retry the same and refuses another body; and the live subject
`sb.live.<org>.>` gives a plain NATS subscriber every event once, webhook-derived ones included."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
import nats

from .e2e_platform import api, poll

TO = "+4915112345678"


def _sender(c: httpx.Client, name: str) -> str:
    created = c.post("/v1/senders", json={"name": name, "provider": "simulator"})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_an_accepted_message_is_readable_at_once(platform):
    with api(platform) as c:
        sender = _sender(c, "read-your-writes")
        seen = []
        for i in range(150):
            sent = c.post("/v1/messages", json={"sender_id": sender, "to": f"+49151{i:07d}1", "text": f"n{i}"})
            assert sent.status_code == 202, sent.text
            got = c.get(f"/v1/messages/{sent.json()['id']}")  # at once: no retry, no wait
            assert got.status_code == 200, (i, got.text)
            seen.append(got.json())
        bulk = c.post("/v1/messages/bulk", json={"sender_id": sender, "text": "to many",
                                                  "recipients": [{"to": f"+49152{i:07d}1"} for i in range(50)]})
        assert bulk.status_code == 202 and bulk.json()["accepted"] == 50, bulk.text
        for result in bulk.json()["results"]:
            got = c.get(f"/v1/messages/{result['id']}")
            assert got.status_code == 200, got.text
            seen.append(got.json())
        assert len(seen) == 200
        for m in seen:
            assert m["status"] in ("queued", "sent", "delivered", "read"), m
            assert m["statuses"][0]["status"] == "queued" and m["direction"] == "outbound"
        first = seen[0]
        assert first["to"] == "+4915100000001" and first["sender_id"] == sender and first["conversation_id"]
        # and each goes on to be sent: the command left the outbox
        poll(lambda: c.get(f"/v1/messages/{seen[-1]['id']}").json(), lambda m: m["status"] == "read")


def test_an_idempotency_key_repeats_the_answer_and_refuses_another_body(platform):
    with api(platform) as c:
        sender = _sender(c, "idempotent")
        body = {"sender_id": sender, "to": TO, "text": "once"}
        first = c.post("/v1/messages", json=body, headers={"Idempotency-Key": "order-7"})
        again = c.post("/v1/messages", json=body, headers={"Idempotency-Key": "order-7"})
        assert first.status_code == again.status_code == 202 and first.json() == again.json()
        other = c.post("/v1/messages", json={**body, "text": "twice?"}, headers={"Idempotency-Key": "order-7"})
        assert other.status_code == 409, other.text
        assert other.json()["error"]["details"]["idempotency_key"] == "order-7"
        bulk = {"sender_id": sender, "text": "hi", "recipients": [{"to": TO}, {"to": "+4915112345679"}]}
        b1 = c.post("/v1/messages/bulk", json=bulk, headers={"Idempotency-Key": "batch-1"})
        b2 = c.post("/v1/messages/bulk", json=bulk, headers={"Idempotency-Key": "batch-1"})
        assert b1.status_code == b2.status_code == 202 and b1.json() == b2.json()
        b3 = c.post("/v1/messages/bulk", json={**bulk, "text": "other"}, headers={"Idempotency-Key": "batch-1"})
        assert b3.status_code == 409
        poll(lambda: c.get(f"/v1/messages/{first.json()['id']}").json(), lambda m: m["status"] == "read")
        conversation = c.get(f"/v1/messages/{first.json()['id']}").json()["conversation_id"]
        texts = [m["text"] for m in c.get(f"/v1/conversations/{conversation}/messages").json()["items"]]
        assert texts.count("once") == 1 and "twice?" not in texts  # the retry sent nothing more


def test_the_live_subject_carries_every_event_once(platform):
    ingest = platform["endpoints"]["ingest"]
    with api(platform) as c:
        org = c.get("/v1/me").json()["org_id"]
        meta = c.post("/v1/senders", json={"name": "live-meta", "provider": "meta-cloud", "config": {
            "phone_number_id": "106540352240001", "waba_id": "102290129340001", "access_token": "EAAB-live",
            "app_secret": "live-app-secret", "verify_token": "live-verify"}})
        assert meta.status_code == 201, meta.text
        simulator = _sender(c, "live-sim")
        poll(lambda: httpx.get(f"{ingest}/webhooks/meta", params={
            "hub.mode": "subscribe", "hub.verify_token": "live-verify", "hub.challenge": "1"}),
            lambda r: r.status_code == 200)

    async def watch() -> list:
        nc = await nats.connect(platform["endpoints"]["nats"])
        got = []
        async def keep(msg) -> None:
            got.append((dict(msg.headers or {}), json.loads(msg.data)))

        sub = await nc.subscribe(f"sb.live.{org}.>", cb=keep)
        await nc.flush()
        with api(platform) as c:
            mid = c.post("/v1/messages", json={"sender_id": simulator, "to": TO, "text": "live"}).json()["id"]
            delivery = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340001", "changes": [{
                "field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550001111", "phone_number_id": "106540352240001"},
                    "contacts": [{"profile": {"name": "Lia"}, "wa_id": "34600111333"}],
                    "messages": [{"from": "34600111333", "id": "wamid.LIVE1", "timestamp": "1764400000",
                                  "type": "text", "text": {"body": "hola"}}]}}]}]}
            raw = json.dumps(delivery).encode()
            signature = "sha256=" + hmac.new(b"live-app-secret", raw, hashlib.sha256).hexdigest()
            r = httpx.post(f"{ingest}/webhooks/meta", content=raw,
                           headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"})
            assert r.status_code == 200, r.text
            for _ in range(200):  # bounded: until the message is read and the inbound one arrived
                types = {(e["type"], e["data"].get("status")) for _, e in got}
                if ("switchboard.message.status.v1", "read") in types and \
                        ("switchboard.message.received.v1", None) in types:
                    break
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything repeated would have arrived by now
        await sub.unsubscribe()
        await nc.close()
        return got, mid

    got, mid = asyncio.run(watch())
    ids = [e["id"] for _, e in got]
    assert len(ids) == len(set(ids)), "an event reached the live subject twice"
    sequences = [int(h["Nats-Sequence"]) for h, _ in got]
    assert sequences == sorted(sequences)  # in stream order
    by_type = {}
    for _, e in got:
        by_type.setdefault(e["type"], []).append(e)
    assert [e["data"]["from"] for e in by_type["switchboard.message.received.v1"]] == ["+34600111333"]  # webhook
    assert [e["data"]["message_id"] for e in by_type["switchboard.message.accepted.v1"]] == [mid]  # session-pool
    assert {e["data"]["status"] for e in by_type["switchboard.message.status.v1"]} >= {"sent", "delivered", "read"}

