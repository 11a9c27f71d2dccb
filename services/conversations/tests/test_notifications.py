"""ERP order notifications against the real NATS and PostgreSQL: rules, one message per ERP event, never
backwards, opt-outs and template status, bad input recorded (dead letters, `notification.skipped`), and
the same over `POST /v1/notifications`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from switchboard_contracts import blocklist
from switchboard_contracts.ids import new_id
from switchboard_contracts.notification import notification_message_id
from switchboard_devkit.testing.patience import REPLY

from .inbox_helpers import add_sender, as_, eventually, meta_reports, publish, running_inbox

BODY = {"type": "BODY", "text": "Hi {{1}}, order {{2}} has shipped.", "example": {"body_text": [["Ana", "A-1"]]}}
PHONE = "+4915112345678"


def erp_event(event: str, event_id: str, order_id: str = "A-7", **data) -> dict:
    return {"specversion": "1.0", "id": event_id, "source": "erp/orders", "type": f"com.acme.{event}",
            "time": datetime.now(UTC).isoformat(), "datacontenttype": "application/json",
            "data": {"order_id": order_id, "customer_phone": PHONE, "customer_name": "Ana", "locale": "de-DE",
                     **data}}


async def _outcomes(js, org: str, count: int, timeout: float = REPLY) -> list[dict]:
    sub = await js.subscribe(f"sb.evt.{org}.notification.>", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    seen = []
    try:
        while len(seen) < count:
            msg = await sub.next_msg(timeout=timeout)
            seen.append(json.loads(msg.data))
    finally:
        await sub.unsubscribe()
    return seen


async def _dead_letters(js, count: int, timeout: float = REPLY) -> list[str]:
    sub = await js.subscribe("sb.dlq.conversations__notifications", ordered_consumer=True,
                             stream="SWITCHBOARD_DEAD_LETTERS")
    out = []
    try:
        while len(out) < count:
            msg = await sub.next_msg(timeout=timeout)
            out.append((msg.headers or {}).get("Switchboard-Dead-Letter-Reason", "") + " " + msg.data.decode(errors="replace"))
    finally:
        await sub.unsubscribe()
    return out


async def _approved_template(client, js, org: str, sender: str) -> None:
    made = await client.post("/v1/templates", headers=as_(org), json={
        "sender_id": sender, "name": "order_shipped", "language": "de", "category": "UTILITY", "components": [BODY]})
    assert made.status_code == 201, made.text
    await meta_reports(js, org, "waba-9", "555", "order_shipped", "de", "APPROVED")
    await eventually(lambda: client.get(f"/v1/templates/{made.json()['id']}", headers=as_(org)),
                     lambda r: r.json()["status"] == "APPROVED")


async def _rule(client, org: str, sender: str, event: str, template: str = "order_shipped") -> dict:
    r = await client.post("/v1/notification-rules", headers=as_(org), json={
        "event": event, "template": {"name": template, "languages": {"de": "de", "ro": "ro"}, "fallback": "de"},
        "parameters": {"1": "data.customer_name", "2": "data.order_id"}, "sender_id": sender})
    assert r.status_code == 201, r.text
    return r.json()


async def test_each_order_event_sends_once_never_backwards_and_says_why_it_did_not(nats_url, database_url):
    org, meta = new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_sender(js, org, meta, "meta-cloud", waba_id="waba-9")
        await _approved_template(client, js, org, meta)
        for event in ("order.shipped", "order.confirmed"):
            await _rule(client, org, meta, event)
        await _rule(client, org, meta, "order.delivered", template="never_made")

        async def erp(event: str, body: dict | bytes) -> None:  # a plain publish, as the ERP's nats-py client does
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            await js.publish(f"erp.evt.{org}.{event}", raw)

        await erp("order.shipped", erp_event("order.shipped", "e1"))
        await erp("order.shipped", erp_event("order.shipped", "e1"))  # republished: nothing new
        await erp("order.confirmed", erp_event("order.confirmed", "e2"))  # late: the order shipped already
        await erp("order.shipped", erp_event("order.shipped", "e3", customer_phone="not a phone"))
        await erp("order.returned", erp_event("order.returned", "e4"))  # no rule names it
        await erp("order.delivered", erp_event("order.delivered", "e5"))  # its template is not approved
        await erp("order.shipped", b"{not a cloudevent")
        seq = await publish(js, org, blocklist.BlocklistChanged(phone="+4915199999999", source="keyword",
                                                                keyword="STOP", at=datetime.now(UTC)), blocklist.ADDED)
        await eventually(lambda: js.consumer_info("SWITCHBOARD_EVENTS", "conversations__directory"),
                         lambda info: info.ack_floor.stream_seq >= seq)  # the directory has the blocklist
        await erp("order.shipped", erp_event("order.shipped", "e6", order_id="B-1", customer_phone="+4915199999999"))

        outcomes = await _outcomes(js, org, 7)
        got = [(o["data"]["erp_event_id"], o["type"].split(".")[2], o["data"].get("reason")) for o in outcomes]
        assert got == [("e1", "sent", None), ("e1", "skipped", "duplicate"), ("e2", "skipped", "out_of_order"),
                       ("e3", "skipped", "invalid_phone"), ("e4", "skipped", "no_rule"),
                       ("e5", "skipped", "template_not_approved"), ("e6", "skipped", "opted_out")], got
        sent = outcomes[0]
        mid = notification_message_id(org, "erp/orders", "e1")
        assert sent["data"]["message_id"] == mid and sent["data"]["order_id"] == "A-7"
        assert sent["correlationid"] == "e1" and sent["data"]["template"] == {"name": "order_shipped", "language": "de"}
        command = json.loads((await js.get_last_msg("SWITCHBOARD_COMMANDS", f"sb.cmd.{org}.message.send")).data)
        assert command["id"] == mid and command["correlationid"] == "e1"
        assert command["data"]["template"]["components"][0]["parameters"][1]["text"] == "A-7"
        message = (await client.get(f"/v1/messages/{mid}", headers=as_(org))).json()
        assert message["text"] == "Hi Ana, order A-7 has shipped." and message["to"] == PHONE
        letters = await _dead_letters(js, 3)
        assert any("invalid_phone" in x for x in letters) and any("no_rule" in x for x in letters)
        assert any("CloudEvents" in x for x in letters)


async def test_the_same_over_http_and_bad_input_is_a_422(nats_url, database_url):
    org, meta = new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_sender(js, org, meta, "meta-cloud", waba_id="waba-9")
        await _approved_template(client, js, org, meta)
        rule = await _rule(client, org, meta, "order.shipped")
        assert (await client.get(f"/v1/notification-rules/{rule['id']}", headers=as_(org))).json()["event"] == \
            "order.shipped"
        assert (await client.get(f"/v1/notification-rules/{rule['id']}", headers=as_(new_id()))).status_code == 404
        r = await client.post("/v1/notifications", headers=as_(org), json=erp_event("order.shipped", "h1"))
        assert r.status_code == 202 and r.json()["status"] == "sent", r.text
        again = await client.post("/v1/notifications", headers=as_(org), json=erp_event("order.shipped", "h1"))
        assert again.json() == {**r.json(), "status": "skipped", "reason": "duplicate",
                                "detail": "the event was received before", "message_id": None}
        bad = await client.post("/v1/notifications", headers=as_(org),
                                json=erp_event("order.shipped", "h2", customer_phone="12"))
        assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "data.customer_phone", bad.text
        # once the cause is fixed, the same event may come again
        fixed = await client.post("/v1/notifications", headers=as_(org), json=erp_event("order.shipped", "h2"))
        assert fixed.json()["status"] == "sent", fixed.text
        assert (await client.post("/v1/notifications", headers=as_(org), json={"id": "x"})).status_code == 422
        assert (await client.post("/v1/notification-rules", headers=as_(org), json={
            "event": "order.shipped", "template": {"name": "t", "fallback": "de"}})).status_code == 422  # no sender


CONDITION = {"all": [{"path": "data.total", "op": "gte", "value": 100},
                     {"any": [{"path": "data.country", "op": "in", "value": ["DE", "AT"]},
                              {"path": "data.vip", "op": "exists"}]}]}


async def test_a_rule_applies_only_where_its_condition_holds(nats_url, database_url):
    org, meta = new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_sender(js, org, meta, "meta-cloud", waba_id="waba-9")
        await _approved_template(client, js, org, meta)
        body = {"event": "order.shipped", "template": {"name": "order_shipped", "fallback": "de"},
                "parameters": {"1": "data.customer_name", "2": "data.order_id"}, "sender_id": meta}
        made = await client.post("/v1/notification-rules", headers=as_(org), json={**body, "condition": CONDITION})
        assert made.status_code == 201 and made.json()["condition"] == CONDITION, made.text
        for event_id, data, applies in [("c1", {"total": 150, "country": "AT"}, True),
                                        ("c2", {"total": 150, "country": "FR", "vip": True}, True),
                                        ("c3", {"total": 150, "country": "FR"}, False),
                                        ("c4", {"total": 99, "country": "DE"}, False),
                                        ("c5", {"total": "many", "country": "DE"}, False)]:
            r = await client.post("/v1/notifications", headers=as_(org),
                                  json=erp_event("order.shipped", event_id, order_id=event_id, **data))
            if applies:
                assert r.status_code == 202 and r.json()["status"] == "sent", (event_id, r.text)
            else:  # no rule applies: bad input, answered as such
                assert r.status_code == 422 and r.json()["error"]["code"] == "no_rule", (event_id, r.text)
        # a condition has one shape: a path with its op and value, or a list under all or any
        for bad in ({"path": "data.total", "all": [{"path": "data.x"}]}, {"op": "eq", "value": 1}, {"all": []},
                    {"any": [{"path": "data.x", "op": "near"}]}, {}, {"path": "total"}):
            r = await client.post("/v1/notification-rules", headers=as_(org), json={**body, "condition": bad})
            assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", (bad, r.text)
            assert all(f["field"].startswith("condition") for f in r.json()["error"]["details"]["fields"]), r.text
