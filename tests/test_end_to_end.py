"""The slice end to end, as `make run` runs it: the dev supervisor starts the embedded NATS and
PostgreSQL and every service as its own process; the test drives the gateway's HTTP API."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import time

import httpx
from cloudevents.v1.http import from_json


from .e2e_platform import api, poll, stored


def test_endpoints_are_written_and_the_key_works(platform):
    assert set(platform["endpoints"]) >= {"gateway", "nats", "database", "ingest"}
    assert platform["endpoints"]["gateway"] == platform["base"]
    with api(platform) as c:
        me = c.get("/v1/me")
        assert me.status_code == 200 and me.json()["org_id"]
    anonymous = httpx.get(f"{platform['base']}/v1/me")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"]
    assert httpx.get(f"{platform['base']}/healthz").status_code == 200


def test_a_message_travels_the_whole_way(platform):
    with api(platform) as c:
        sender = c.post("/v1/senders", json={"name": "e2e", "provider": "simulator"})
        assert sender.status_code == 201, sender.text
        sender_id = sender.json()["id"]
        sent = c.post("/v1/messages", json={"sender_id": sender_id, "to": "+49 151 1234 5678",
                                            "text": "Your order has shipped", "client_ref": "order-1"})
        assert sent.status_code == 202, sent.text
        assert sent.json()["status"] == "queued"
        mid = sent.json()["id"]
        msg = poll(lambda: c.get(f"/v1/messages/{mid}"),
                   lambda r: r.status_code == 200 and r.json()["status"] == "read").json()
        assert [s["status"] for s in msg["statuses"]] == ["queued", "sent", "delivered", "read"]
        assert msg["to"] == "+4915112345678" and msg["client_ref"] == "order-1"
        assert msg["from"] == sender.json()["phone_number"]
        assert msg["text"] == "Your order has shipped"

        failing = c.post("/v1/messages", json={"sender_id": sender_id, "to": "+4915112340000",
                                               "text": "never arrives"}).json()["id"]
        failed = poll(lambda: c.get(f"/v1/messages/{failing}"),
                      lambda r: r.status_code == 200 and r.json()["status"] == "failed").json()
        assert failed["error"]["code"] == 131026

        inbound = c.post(f"/v1/senders/{sender_id}/simulate/inbound",
                         json={"from": "+4915112345678", "text": "Thanks!"})
        assert inbound.status_code == 202, inbound.text
        conv = poll(lambda: c.get("/v1/conversations").json()["items"],
                    lambda items: any(i["contact"] == "+4915112345678" for i in items))
        conv_id = next(i["id"] for i in conv if i["contact"] == "+4915112345678")
        history = poll(lambda: c.get(f"/v1/conversations/{conv_id}/messages").json()["items"],
                       lambda items: len(items) == 2)
        assert [m["direction"] for m in history] == ["outbound", "inbound"]
        assert history[1]["text"] == "Thanks!"
        org = c.get("/v1/me").json()["org_id"]

    import asyncio

    raw = asyncio.run(stored(platform["endpoints"]["nats"], f"sb.evt.{org}.>"))
    parsed = [from_json(m.data) for m in raw]
    assert all(m.headers["Nats-Msg-Id"] == e["id"] for m, e in zip(raw, parsed, strict=True))
    types = {e["type"] for e in parsed}
    assert {"switchboard.sender.registered.v1", "switchboard.message.accepted.v1",
            "switchboard.message.status.v1", "switchboard.message.received.v1",
            "switchboard.conversation.started.v1"} <= types
    assert all(e["orgid"] == org and e["correlationid"] and e["causationid"] for e in parsed)
    sent = [e for e in parsed if e["type"] == "switchboard.message.status.v1" and e.data["status"] == "sent"]
    assert sent and all(e["traceparent"].startswith("00-") for e in sent)  # trace context from the API


def test_a_signed_meta_delivery_reaches_the_conversation(platform):
    ingest = platform["endpoints"]["ingest"]
    with api(platform) as c:
        created = c.post("/v1/senders", json={"name": "meta", "provider": "meta-cloud", "config": {
            "phone_number_id": "106540352242922", "waba_id": "102290129340398", "access_token": "EAAB-e2e",
            "app_secret": "e2e-app-secret", "verify_token": "e2e-verify"}})
        assert created.status_code == 201, created.text
        sender_id = created.json()["id"]
        handshake = {"hub.mode": "subscribe", "hub.verify_token": "e2e-verify", "hub.challenge": "42"}
        poll(lambda: httpx.get(f"{ingest}/webhooks/meta", params=handshake), lambda r: r.status_code == 200)
        delivery = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Marta"}, "wa_id": "34600111222"}],
                "messages": [{"from": "34600111222", "id": "wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUI=",
                              "timestamp": "1764400000", "type": "text", "text": {"body": "¿Tenéis stock?"}}]}}]}]}
        body = json.dumps(delivery).encode()
        signature = "sha256=" + hmac.new(b"e2e-app-secret", body, hashlib.sha256).hexdigest()
        r = httpx.post(f"{ingest}/webhooks/meta", content=body,
                       headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["published"] == 1, r.text
        conv = poll(lambda: c.get("/v1/conversations").json()["items"],
                    lambda items: any(i["contact"] == "+34600111222" for i in items))
        conv_id = next(i["id"] for i in conv if i["contact"] == "+34600111222")
        [m] = poll(lambda: c.get(f"/v1/conversations/{conv_id}/messages").json()["items"], lambda i: len(i) == 1)
        assert m["direction"] == "inbound" and m["text"] == "¿Tenéis stock?" and m["sender_id"] == sender_id
        assert next(i for i in conv if i["id"] == conv_id)["contact_name"] == "Marta"


def test_a_paused_sender_holds_its_messages_until_resumed(platform):
    with api(platform) as c:
        sender_id = c.post("/v1/senders", json={"name": "pausable", "provider": "simulator"}).json()["id"]
        paused = c.post(f"/v1/senders/{sender_id}/pause", json={"reason": "campaign review"})
        assert paused.status_code == 200, paused.text
        assert paused.json()["status"] == "paused" and paused.json()["status_reason"] == "campaign review"
        assert paused.json()["paused"]["automatic"] is False
        mid = c.post("/v1/messages", json={"sender_id": sender_id, "to": "+4915112345679", "text": "held"}).json()["id"]
        held = poll(lambda: c.get(f"/v1/messages/{mid}"), lambda r: r.status_code == 200).json()
        time.sleep(1.0)
        assert c.get(f"/v1/messages/{mid}").json()["status"] == "queued" == held["status"]
        resumed = c.post(f"/v1/senders/{sender_id}/resume")
        assert resumed.status_code == 200 and resumed.json()["status"] == "connected"
        poll(lambda: c.get(f"/v1/messages/{mid}"), lambda r: r.json()["status"] == "read")
        assert c.post("/v1/senders/00000000-0000-0000-0000-000000000000/pause").status_code == 404


def test_bad_input_gets_json_errors(platform):
    with api(platform) as c:
        sender_id = c.post("/v1/senders", json={"name": "bad-input", "provider": "simulator"}).json()["id"]
        invalid = c.post("/v1/messages", json={"sender_id": sender_id, "to": "12", "text": "x"})
        assert invalid.status_code == 422 and "to" in json.dumps(invalid.json()["error"]["details"])
        malformed = c.post("/v1/messages", content=b"{not json", headers={"Content-Type": "application/json"})
        assert malformed.status_code == 400 and malformed.json()["error"]["code"]
        unknown = c.post("/v1/messages", json={"sender_id": "00000000-0000-0000-0000-000000000000",
                                               "to": "+4915112345678", "text": "x"})
        assert unknown.status_code == 404
        too_big = c.post("/v1/messages", content=b"{" + b" " * 1_100_000 + b"}",
                         headers={"Content-Type": "application/json"})
        assert too_big.status_code == 413


def test_ctrl_c_stops_everything(stoppable_platform):
    """The platform the other tests used (this test runs after them), once it has carried a message."""
    platform = stoppable_platform
    with api(platform) as c:
        sender_id = c.post("/v1/senders", json={"name": "last", "provider": "simulator"}).json()["id"]
        mid = c.post("/v1/messages", json={"sender_id": sender_id, "to": "+4915112345670", "text": "bye"}).json()["id"]
        poll(lambda: c.get(f"/v1/messages/{mid}"), lambda r: r.status_code == 200 and r.json()["status"] == "read")
    proc = platform["proc"]
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    nats_port = int(platform["endpoints"]["nats"].rsplit(":", 1)[1])
    from switchboard_devkit.ports import port_open

    assert not port_open(nats_port)
    assert not port_open(int(platform["base"].rsplit(":", 1)[1]))
