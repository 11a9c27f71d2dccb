"""Events out through the whole platform: an endpoint created through the gateway receives the
organization's message events as the simulator sends a message — signed (the `standardwebhooks`
package verifies them), `webhook-id` the CloudEvent id, in stream order — and the attempts are listed."""

from __future__ import annotations

import asyncio
import json

import httpx
from standardwebhooks.webhooks import Webhook

from switchboard_devkit.testing.webhook_receiver import Receiver


async def _poll(fn, predicate, timeout: float = 20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fn()
        if predicate(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"timed out; last value {value}"
        await asyncio.sleep(0.1)


async def test_an_endpoint_receives_a_message_s_events_signed_and_in_order(platform):
    async with Receiver() as receiver, httpx.AsyncClient(base_url=platform["base"], timeout=30,
                                                         headers={"X-API-Key": platform["key"]}) as c:
        created = await c.post("/v1/webhook-endpoints", json={"url": receiver.url + "/erp",
                                                              "event_types": ["message.*"], "description": "ERP"})
        assert created.status_code == 201, created.text
        secret, endpoint_id = created.json()["secret"], created.json()["id"]
        sender = await c.post("/v1/senders", json={"name": "hooks", "provider": "simulator"})
        assert sender.status_code == 201, sender.text
        sent = await c.post("/v1/messages", json={"sender_id": sender.json()["id"], "to": "+4915112345001",
                                                  "text": "Your order has shipped"})
        assert sent.status_code == 202, sent.text
        message_id = sent.json()["id"]

        def of_message(requests):
            return [json.loads(r.body) for r in requests if json.loads(r.body)["data"].get("message_id") == message_id]

        await _poll(lambda: asyncio.sleep(0, receiver.received),
                    lambda got: [e["data"].get("status") for e in of_message(got)][-1:] == ["read"])
        events = of_message(receiver.received)
        assert events[0]["type"] == "switchboard.message.accepted.v1"
        assert [e["data"]["status"] for e in events[1:]] == ["sent", "delivered", "read"]
        for request in receiver.received:
            assert Webhook(secret).verify(request.body, request.headers)["id"] == request.headers["webhook-id"]
            assert request.path == "/erp"
        attempts = await _poll(lambda: c.get(f"/v1/webhook-endpoints/{endpoint_id}/attempts"),
                               lambda r: len(r.json()["items"]) >= len(receiver.received))
        assert {a["status"] for a in attempts.json()["items"]} == {"succeeded"}
        assert (await c.get("/v1/webhook-endpoints")).json()["items"][0]["id"] == endpoint_id
