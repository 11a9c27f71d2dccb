"""Auto-replies through the running service (real NATS and PostgreSQL): answered once per cooldown,
never twice for one message delivered twice, never to a blocklisted contact or one of our own numbers,
not when a flow takes the message, at most five an hour, and a delayed one after its delay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from switchboard_contracts import blocklist as bl
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id

from .flow_helpers import Sends, active_flow, as_org, inbound, running_flows
from .test_executor import EXAMPLE

SENDER = "4d8f2f0e-3b0a-4c53-9b8e-6a7f1b2c3d4e"
OUR_NUMBER = "+15550000000"  # the `to` of the inbound messages the helper publishes


async def blocklisted(js, org: str, phone: str) -> None:
    data = bl.BlocklistChanged(phone=phone, source="api", at=datetime.now(UTC))
    ce = make_envelope(id=new_id(), source="test", type=bl.ADDED, orgid=org, data=data)
    await js.publish(f"sb.evt.{org}.blocklist.added", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})


async def test_auto_replies_answer_once_and_respect_every_limit(nats_url, database_url):
    org = new_id()
    async with running_flows(nats_url, database_url) as (js, http), Sends(js) as sends:
        rule = await http.post("/v1/auto-replies", headers=as_org(org), json={
            "message": {"type": "text", "text": "Thanks {{contact.name|friend}}, we will answer soon."},
            "delay_ms": 0, "cooldown_seconds": 3600})
        assert rule.status_code == 201, rule.text
        first = await inbound(js, org, SENDER, "+4915100000011", "hello", name="Bea")
        await inbound(js, org, SENDER, "+4915100000011", "hello", event_id=first.id, msg_id=new_id())
        [reply] = await sends.take(1)
        assert reply["text"] == "Thanks Bea, we will answer soon." and reply["to"] == "+4915100000011"
        assert reply["sender_id"] == SENDER and reply["client_ref"] == f"auto_reply:{rule.json()['id']}"
        await inbound(js, org, SENDER, "+4915100000011", "anyone there?")  # within the cooldown
        await blocklisted(js, org, "+4915100000012")
        await asyncio.sleep(0.5)
        await inbound(js, org, SENDER, "+4915100000012", "hello")  # blocklisted
        await inbound(js, org, SENDER, OUR_NUMBER, "hello")  # one of our own numbers
        await active_flow(http, org, EXAMPLE)
        await inbound(js, org, SENDER, "+4915100000013", "status please")  # the flow takes it
        [flow_message] = await sends.take(1)
        assert flow_message["client_ref"].startswith("flow:")
        await sends.none_within(1.5)
        patched = await http.patch(f"/v1/auto-replies/{rule.json()['id']}", headers=as_org(org),
                                   json={"cooldown_seconds": 0})
        assert patched.status_code == 200 and patched.json()["cooldown_seconds"] == 0
        for i in range(7):
            await inbound(js, org, SENDER, "+4915100000014", f"message {i}")
        capped = await sends.take(5)
        assert {r["to"] for r in capped} == {"+4915100000014"}
        await sends.none_within(1.5)  # the sixth and seventh: over five an hour


async def test_a_delayed_auto_reply_is_sent_after_its_delay(nats_url, database_url):
    org = new_id()
    async with running_flows(nats_url, database_url) as (js, http), Sends(js) as sends:
        rule = await http.post("/v1/auto-replies", headers=as_org(org), json={
            "message": {"type": "text", "text": "Got it."}, "delay_ms": 2000})
        assert rule.status_code == 201
        assert (await http.get(f"/v1/auto-replies/{rule.json()['id']}", headers=as_org(new_id()))).status_code == 404
        loop = asyncio.get_running_loop()
        asked = loop.time()
        await inbound(js, org, SENDER, "+4915100000021", "hi")
        [reply] = await sends.take(1)
        assert loop.time() - asked >= 1.0 and reply["text"] == "Got it."
        bad = await http.post("/v1/auto-replies", headers=as_org(org), json={"message": {"type": "text"}})
        assert bad.status_code == 422 and "message" in bad.text
        assert (await http.delete(f"/v1/auto-replies/{rule.json()['id']}", headers=as_org(org))).status_code == 204
        assert (await http.get("/v1/auto-replies", headers=as_org(org))).json()["items"] == []
