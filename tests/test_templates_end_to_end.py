"""Templates and ERP notifications through the whole platform, with the local fake Graph API as Meta:
create → submit → PENDING → a signed `message_template_status_update` → APPROVED → a send by name
renders and goes; a sync finds a template made at Meta directly; Meta's refusal is a 422 with its
codes; an ERP publishing order events with a plain nats-py client gets one message per order event and
a `skipped` for a late one."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import nats
import pytest

from switchboard_contracts.notification import notification_message_id
from switchboard_devkit.testing.fake_graph import running_fake_graph
from switchboard_devkit.testing.meta_webhooks import template_status_delivery

from .e2e_platform import stored

WABA, PNID, SECRET = "102290129349001", "106540352249001", "tpl-app-secret"
BODY = {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Ana", "A-1"]]}}
TO = "+4915112349977"
CLOCK = [int(time.time())]  # Meta's `entry.time` of each delivery: a later change is a later delivery


async def poll(fn, predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await fn()
        if predicate(value):
            return value
        assert time.monotonic() < deadline, f"timed out; last value {value}"
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def meta(platform):
    """The fake Graph API, a Meta sender of the module's organization against it, and an API client."""
    async with running_fake_graph() as graph, httpx.AsyncClient(
            base_url=platform["base"], headers={"X-API-Key": platform["key"]}, timeout=30) as client:
        created = await client.post("/v1/senders", json={"name": "tpl-meta", "provider": "meta-cloud", "config": {
            "phone_number_id": PNID, "waba_id": WABA, "access_token": graph.token, "app_secret": SECRET,
            "verify_token": "tpl-verify", "api_base_url": graph.url}})
        assert created.status_code == 201, created.text
        sender = created.json()["id"]
        await poll(lambda: client.get(f"/v1/senders/{sender}"), lambda r: r.json()["status"] == "connected")
        yield {"graph": graph, "client": client, "sender": sender, "platform": platform}


async def _deliver(meta, meta_id: str, name: str, event: str) -> None:
    """Meta's signed `message_template_status_update` to webhook-ingest."""
    meta["graph"].set_status(meta_id, event)
    CLOCK[0] += 1
    body, headers = template_status_delivery(WABA, meta_id, name, "en_US", event, app_secret=SECRET, time=CLOCK[0])
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{meta['platform']['endpoints']['ingest']}/webhooks/meta", content=body, headers=headers)
    assert r.status_code == 200 and r.json()["published"] == 1, r.text


async def _approved(meta, name: str, components: list | None = None) -> dict:
    c, graph = meta["client"], meta["graph"]
    made = await c.post("/v1/templates", json={"sender_id": meta["sender"], "name": name, "language": "en_US",
                                               "category": "UTILITY", "components": components or [BODY]})
    assert made.status_code == 201 and made.json()["status"] == "DRAFT" and made.json()["waba_id"] == WABA, made.text
    submitted = await c.post(f"/v1/templates/{made.json()['id']}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "PENDING", submitted.text
    meta_id = submitted.json()["meta_template_id"]
    assert [t["id"] for t in graph.templates(WABA) if t["name"] == name] == [meta_id]
    await _deliver(meta, meta_id, name, "APPROVED")
    return (await poll(lambda: c.get(f"/v1/templates/{made.json()['id']}"),
                       lambda r: r.json()["status"] == "APPROVED")).json()


async def test_a_template_is_submitted_approved_by_meta_and_sent_by_name(meta):
    c, graph = meta["client"], meta["graph"]
    template = await _approved(meta, "order_on_its_way")
    sent = await c.post("/v1/messages", json={"sender_id": meta["sender"], "to": TO, "type": "template", "template": {
        "name": "order_on_its_way", "language": "en_US", "parameters": ["Ana", "A-7"]}})
    assert sent.status_code == 202, sent.text
    message = (await poll(lambda: c.get(f"/v1/messages/{sent.json()['id']}"),
                          lambda r: r.status_code == 200 and r.json()["status"] == "sent")).json()
    assert message["text"] == "Hi Ana, your order A-7 is on its way."
    [body] = [b for b in graph.sent if b.get("type") == "template" and b["template"]["name"] == "order_on_its_way"]
    assert body["template"]["components"] == [{"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                                               {"type": "text", "text": "A-7"}]}]
    wrong = await c.post("/v1/messages", json={"sender_id": meta["sender"], "to": TO, "type": "template",
                                               "template": {"name": "order_on_its_way", "language": "en_US",
                                                            "parameters": {"1": "Ana", "coupon": "X"}}})
    assert wrong.status_code == 422 and wrong.json()["error"]["details"]["missing"] == ["2"], wrong.text
    assert template["meta_template_id"] and template["read_only"] is False


async def test_a_paused_template_holds_a_running_campaign_and_approved_resumes_it(meta):
    c, graph = meta["client"], meta["graph"]
    template = await _approved(meta, "spring_hello", [{"type": "BODY", "text": "Hello {{1}}, spring is here.",
                                                      "example": {"body_text": [["Ana"]]}}])
    graph.slow[PNID] = 0.5  # each send takes half a second at "Meta": the campaign is still running when paused
    created = await c.post("/v1/campaigns", json={"name": "spring", "sender_ids": [meta["sender"]], "template": {
        "name": "spring_hello", "language": "en_US",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "{{name|there}}"}]}]}})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    contacts = [{"phone": f"+491511234{i:04d}", "name": f"Ana{i}"} for i in range(120)]
    assert (await c.post(f"/v1/campaigns/{cid}/contacts", json={"contacts": contacts})).json()["accepted"] == 120
    assert (await c.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    await _deliver(meta, template["meta_template_id"], "spring_hello", "PAUSED")
    paused = (await poll(lambda: c.get(f"/v1/campaigns/{cid}"), lambda r: r.json()["status"] == "paused")).json()
    assert paused["reason"] == "template_paused", paused
    refused = await c.post(f"/v1/campaigns/{cid}/resume")  # an operator cannot send it either while it is paused
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "template_not_approved", refused.text
    await _deliver(meta, template["meta_template_id"], "spring_hello", "APPROVED")
    await poll(lambda: c.get(f"/v1/campaigns/{cid}"), lambda r: r.json()["status"] == "completed", timeout=60)
    graph.slow.pop(PNID)
    sent = [b["to"] for b in graph.sent if b.get("type") == "template" and b["template"]["name"] == "spring_hello"]
    assert len(sent) == 120 and len(set(sent)) == 120  # every contact, once
    org = (await c.get("/v1/me")).json()["org_id"]
    events = [json.loads(m.data) for m in await stored(meta["platform"]["endpoints"]["nats"], f"sb.evt.{org}.campaign.>")]
    seen = [(e["type"].split(".")[2], e["data"].get("reason")) for e in events if e["subject"] == cid]
    assert ("paused", "template_paused") in seen and ("resumed", "template_approved") in seen, seen
    assert seen.index(("paused", "template_paused")) < seen.index(("resumed", "template_approved"))


async def test_a_sync_finds_what_was_made_at_meta_and_metas_refusal_is_a_422(meta):
    c, graph = meta["client"], meta["graph"]
    graph.add_template(WABA, "promo_made_at_meta", "en_US", "MARKETING",
                       [{"type": "BODY", "text": "Spring sale!"}], status="APPROVED")
    report = await c.post("/v1/templates/sync", json={"sender_id": meta["sender"]})
    assert report.status_code == 200 and report.json()["imported"] >= 1 and report.json()["errors"] == [], report.text
    [found] = (await c.get("/v1/templates", params={"name": "promo_made_at_meta"})).json()["items"]
    assert found["read_only"] is True and found["status"] == "APPROVED"
    assert (await c.patch(f"/v1/templates/{found['id']}", json={"category": "UTILITY"})).status_code == 409
    again = await c.post("/v1/templates/sync")
    assert again.json()["imported"] == 0  # only what changed: nothing now
    graph.add_template(WABA, "taken_at_meta", "en_US", "UTILITY", [BODY], status="PENDING")
    ours = await c.post("/v1/templates", json={"sender_id": meta["sender"], "name": "taken_at_meta",
                                               "language": "en_US", "category": "UTILITY", "components": [BODY]})
    assert ours.status_code == 201, ours.text
    refused = await c.post(f"/v1/templates/{ours.json()['id']}/submit")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["code"] == 100
    assert refused.json()["error"]["details"]["error_subcode"] == 2388024


async def test_order_events_from_the_erp_send_one_message_each_and_skip_a_late_one(meta):
    c, platform = meta["client"], meta["platform"]
    await _approved(meta, "order_update")
    org = (await c.get("/v1/me")).json()["org_id"]
    for event in ("order.shipped", "order.confirmed"):
        rule = await c.post("/v1/notification-rules", json={
            "event": event, "template": {"name": "order_update", "languages": {"en": "en_US"}, "fallback": "en_US"},
            "parameters": {"1": "data.customer_name", "2": "data.order_id"}, "sender_id": meta["sender"]})
        assert rule.status_code == 201, rule.text
    erp = await nats.connect(platform["endpoints"]["nats"])
    js = erp.jetstream()
    phone = "+4915112349988"

    def order(event: str, event_id: str) -> bytes:
        return json.dumps({"specversion": "1.0", "id": event_id, "source": "erp/orders", "type": f"com.acme.{event}",
                           "data": {"order_id": "SO-42", "customer_phone": phone, "customer_name": "Ana",
                                    "locale": "en-GB"}}).encode()
    try:
        for event, event_id in (("order.shipped", "erp-1"), ("order.shipped", "erp-1"), ("order.confirmed", "erp-2")):
            await js.publish(f"erp.evt.{org}.{event}", order(event, event_id), headers={"Nats-Msg-Id": event_id})
        sub = await js.subscribe(f"sb.evt.{org}.notification.>", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
        outcomes = [json.loads((await sub.next_msg(timeout=20)).data) for _ in range(2)]
        await sub.unsubscribe()
    finally:
        await erp.close()
    got = [(o["type"].split(".")[2], o["data"]["erp_event_id"], o["data"].get("reason")) for o in outcomes]
    assert got == [("sent", "erp-1", None), ("skipped", "erp-2", "out_of_order")], got
    mid = notification_message_id(org, "erp/orders", "erp-1")
    message = (await poll(lambda: c.get(f"/v1/messages/{mid}"),
                          lambda r: r.status_code == 200 and r.json()["status"] == "sent")).json()
    assert message["text"] == "Hi Ana, your order SO-42 is on its way." and message["to"] == phone
    history = (await c.get(f"/v1/conversations/{message['conversation_id']}/messages")).json()["items"]
    assert [m["id"] for m in history] == [mid]  # exactly one message, in the customer's conversation
    statuses = await poll(lambda: _statuses(platform, org, mid), lambda s: "sent" in s)
    assert set(statuses.values()) == {"erp-1"}  # the message's statuses carry the ERP event's id


async def _statuses(platform, org: str, mid: str) -> dict:
    events = [json.loads(m.data) for m in await stored(platform["endpoints"]["nats"], f"sb.evt.{org}.message.status")]
    return {e["data"]["status"]: e["correlationid"] for e in events if e["data"]["message_id"] == mid}
