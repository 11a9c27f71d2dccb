"""Deliveries through the running service to a real local receiver: signed as the Standard Webhooks
spec says (checked with the `standardwebhooks` package), in stream order, only the organization's events
of the endpoint's types; a receiver down for a while gets every event once it is back, in order, each
`webhook-id` once as a success; 410 Gone disables the endpoint (`webhook_endpoint.disabled`)."""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook

from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY
from switchboard_devkit.testing.webhook_receiver import Receiver, Reply

from .helpers import as_org, endpoint, eventually, publish_received, running_webhooks


def verified(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


async def test_deliveries_are_signed_in_order_and_filtered(nats_url, database_url):
    org, other = new_id(), new_id()
    async with running_webhooks(nats_url, database_url) as (js, http), Receiver() as receiver:
        created = await endpoint(http, org, receiver.url + "/hooks", event_types=["message.*"])
        assert created["secret"].startswith("whsec_") and created["enabled"] is True
        assert "secret" not in (await http.get(f"/v1/webhook-endpoints/{created['id']}", headers=as_org(org))).json()
        await publish_received(js, other, 3)  # another organization's: never delivered here
        ids = await publish_received(js, org, 20)
        got = await receiver.wait_for(20)
        assert [r.headers["webhook-id"] for r in got] == ids
        for request in got:
            body = verified(created["secret"], request)
            assert body["orgid"] == org and body["id"] == request.headers["webhook-id"]
            assert request.path == "/hooks" and request.headers["content-type"] == "application/json"
        page = await eventually(lambda: _attempts(http, org, created["id"], 20))
        assert {a["status"] for a in page} == {"succeeded"} and {a["http_status"] for a in page} == {200}


async def _attempts(http, org, endpoint_id, count, status=None):
    params = {"limit": 200} | ({"status": status} if status else {})
    items = (await http.get(f"/v1/webhook-endpoints/{endpoint_id}/attempts", headers=as_org(org),
                            params=params)).json()["items"]
    return items if len(items) >= count else None


async def test_a_receiver_down_for_a_while_gets_everything_in_order_once_back(nats_url, database_url):
    org = new_id()
    down = {"on": True}

    def respond(_):
        return Reply(503) if down["on"] else Reply(204)

    async with running_webhooks(nats_url, database_url) as (js, http), Receiver(respond) as receiver:
        created = await endpoint(http, org, receiver.url, event_types=["message.received"])
        ids = await publish_received(js, org, 10)
        await receiver.wait_for(4)  # the head of the line tried again and again
        assert {r.headers["webhook-id"] for r in receiver.received} == {ids[0]}
        down["on"] = False
        await eventually(lambda: len({r.headers["webhook-id"] for r in receiver.received}) == 10)
        await _eventually_quiet(receiver)
        successes = [r.headers["webhook-id"] for r in receiver.received[len(receiver.received) - 10:]]
        assert successes == ids  # in order, each once as a success (the failures were all the first)
        failed = await _attempts(http, org, created["id"], 1, "failed")
        assert {a["event_id"] for a in failed} == {ids[0]} and {a["http_status"] for a in failed} == {503}
        shown = (await http.get(f"/v1/webhook-endpoints/{created['id']}", headers=as_org(org))).json()
        assert shown["enabled"] and shown["failing_since"] is None and shown["retrying"] is None


async def _eventually_quiet(receiver: Receiver, seconds: float = 1.0):
    import asyncio

    count = -1
    while count != len(receiver.received):
        count = len(receiver.received)
        await asyncio.sleep(seconds)


async def test_410_gone_disables_the_endpoint(nats_url, database_url):
    org = new_id()
    async with running_webhooks(nats_url, database_url) as (js, http), Receiver(lambda _: Reply(410)) as receiver:
        created = await endpoint(http, org, receiver.url, event_types=["message.*"])
        sub = await js.subscribe(f"sb.evt.{org}.webhook_endpoint.disabled", stream="SWITCHBOARD_EVENTS")
        await publish_received(js, org, 3)
        await receiver.wait_for(1)
        disabled = json.loads((await sub.next_msg(timeout=REPLY)).data)
        assert disabled["data"]["reason"] == "gone" and disabled["data"]["endpoint_id"] == created["id"]
        assert "secret" not in json.dumps(disabled)
        shown = (await http.get(f"/v1/webhook-endpoints/{created['id']}", headers=as_org(org))).json()
        assert shown["enabled"] is False and shown["disabled_reason"] == "gone"
        await _eventually_quiet(receiver)
        assert len(receiver.received) == 1  # nothing more after the 410
