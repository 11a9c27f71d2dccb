"""POST/GET /webhooks/meta against a real NATS JetStream: verification, signatures, completeness,
7-day dedupe, quarantine, bad input."""

from __future__ import annotations

import asyncio

import nats
from cloudevents.v1.http import from_json

from switchboard_contracts import message, sender
from switchboard_contracts.ids import new_id

from .helpers import add_route, body_of, events, meta_signature, running_ingest, stream_messages
from .payloads import meta_change, meta_delivery, meta_message, meta_status, meta_value_error

SECRET = "app-secret-1"


async def shrink_duplicate_window(nats_url: str, stream: str) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    config = (await js.stream_info(stream)).config
    config.duplicate_window = 0.2
    await js.update_stream(config)
    await nc.close()


async def meta_sender(nats_url, pnid="111", app_secret=SECRET, verify_token="verify-1"):
    org, sender_id = new_id(), new_id()
    await add_route(nats_url, "meta-cloud", pnid, org, sender_id, app_secret=app_secret,
                    verify_token=verify_token, access_token="EAAB-token")
    return org, sender_id


async def test_verification_handshake(nats_url):
    await meta_sender(nats_url)
    async with running_ingest(nats_url, meta_verify_token="platform-token") as client:
        for token in ("verify-1", "platform-token"):
            r = await client.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": token,
                                                           "hub.challenge": "1158201444"})
            assert r.status_code == 200 and r.text == "1158201444"
            assert r.headers["content-type"].startswith("text/plain")
        for params in ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
                       {"hub.mode": "unsubscribe", "hub.verify_token": "verify-1", "hub.challenge": "1"},
                       {"hub.verify_token": "verify-1", "hub.challenge": "1"},
                       {"hub.mode": "subscribe", "hub.challenge": "1"},
                       {"hub.mode": "subscribe", "hub.verify_token": "verify-1"}, {}):
            r = await client.get("/webhooks/meta", params=params)
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", params


async def test_signatures_are_checked_and_nothing_published_without_one(nats_url):
    org, _ = await meta_sender(nats_url)
    await meta_sender(nats_url, pnid="222", app_secret="another-app")
    body = body_of(meta_delivery(("waba", [meta_change("111", messages=[meta_message("text", wamid="w1")])])))
    async with running_ingest(nats_url) as client:
        cases = {
            "missing": {"Content-Type": "application/json"},
            "wrong secret": meta_signature("not-the-secret", body),
            "another sender's app": meta_signature("another-app", body),
            "garbage": {"X-Hub-Signature-256": "sha256=zz"},
        }
        for case, headers in cases.items():
            r = await client.post("/webhooks/meta", content=body, headers=headers)
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", case
        altered = body.replace(b'"hello"', b'"hellp"')
        r = await client.post("/webhooks/meta", content=altered, headers=meta_signature(SECRET, body))
        assert r.status_code == 401
        # changes for senders of two different apps in one delivery: no single secret can vouch for it
        mixed = body_of(meta_delivery(("waba", [
            meta_change("111", messages=[meta_message("text", wamid="w2")]),
            meta_change("222", messages=[meta_message("text", wamid="w3")])])))
        for secret in (SECRET, "another-app"):
            r = await client.post("/webhooks/meta", content=mixed, headers=meta_signature(secret, mixed))
            assert r.status_code == 401
        assert await events(nats_url, org) == []
        r = await client.post("/webhooks/meta", content=body, headers=meta_signature(SECRET, body))
        assert r.status_code == 200 and r.json()["published"] == 1
    assert [e.type for e in await events(nats_url, org)] == [message.RECEIVED]


async def test_every_fact_of_a_delivery_is_published_once_even_when_retried(nats_url):
    org, sender_id = await meta_sender(nats_url)
    twins = [meta_message("text", wamid="wamid.A", text="same"), meta_message("text", wamid="wamid.B", text="same")]
    doc = meta_delivery(
        ("waba", [meta_change("111", messages=twins),
                  meta_change("111", statuses=[meta_status("delivered", wamid="o1"),
                                               meta_status("read", wamid="o1"),
                                               meta_status("failed", wamid="o2")])]),
        ("waba", [meta_change("111", errors=[meta_value_error(131056, "Pair rate limit hit")])]))
    body = body_of(doc)
    headers = meta_signature(SECRET, body)
    async with running_ingest(nats_url) as client:
        first = await client.post("/webhooks/meta", content=body, headers=headers)
        assert first.status_code == 200 and first.json() == {"published": 6, "duplicates": 0, "quarantined": False}
        for _ in range(2):
            again = await client.post("/webhooks/meta", content=body, headers=headers)
            assert again.json() == {"published": 0, "duplicates": 6, "quarantined": False}
    # after a restart, and with JetStream's Nats-Msg-Id window long gone (shrunk here to 0.2 s, as if
    # Meta retried days later), the 7-day record in SWITCHBOARD_INGEST still recognises every fact
    async with running_ingest(nats_url) as client:
        await shrink_duplicate_window(nats_url, "SWITCHBOARD_INGEST")
        await asyncio.sleep(0.5)
        again = await client.post("/webhooks/meta", content=body, headers=headers)
        assert again.status_code == 200 and again.json()["duplicates"] == 6
        # the same status delivered in a new delivery (another batch) is still the same fact
        single = body_of(meta_delivery(("waba", [meta_change("111", statuses=[meta_status("read", wamid="o1")])])))
        r = await client.post("/webhooks/meta", content=single, headers=meta_signature(SECRET, single))
        assert r.json() == {"published": 0, "duplicates": 1, "quarantined": False}
    published = await events(nats_url, org)
    assert sorted((e.type, e.data.get("provider_message_id"), e.data.get("status")) for e in published) == sorted([
        (message.RECEIVED, "wamid.A", None), (message.RECEIVED, "wamid.B", None),
        (message.STATUS, "o1", "delivered"), (message.STATUS, "o1", "read"), (message.STATUS, "o2", "failed"),
        (sender.ERROR, None, None)])
    failed = next(e for e in published if e.data.get("status") == "failed")
    assert failed.data["error"]["code"] == 131026
    # every event is a CloudEvents 1.0 document with our extensions
    raw = await stream_messages(nats_url, f"sb.evt.{org}.>")
    for msg in raw:
        ce = from_json(msg.data)
        assert ce["specversion"] == "1.0" and ce["orgid"] == org and msg.headers["Nats-Msg-Id"] == ce["id"]
        assert ce["source"] == "switchboard/webhook-ingest"
        assert "app-secret" not in msg.data.decode() and "EAAB" not in msg.data.decode()


async def test_unknown_phone_number_id_is_quarantined_and_answered_200(nats_url):
    org, _ = await meta_sender(nats_url)
    body = body_of(meta_delivery(("waba", [meta_change("404404", messages=[meta_message("text", wamid="x")])])))
    mixed = body_of(meta_delivery(("waba", [meta_change("111", messages=[meta_message("text", wamid="k")]),
                                            meta_change("404404", messages=[meta_message("text", wamid="y")])])))
    async with running_ingest(nats_url) as client:
        r = await client.post("/webhooks/meta", content=body, headers=meta_signature("whatever", body))
        assert r.status_code == 200 and r.json()["quarantined"] is True
        r = await client.post("/webhooks/meta", content=mixed, headers=meta_signature(SECRET, mixed))
        assert r.status_code == 200 and r.json() == {"published": 1, "duplicates": 0, "quarantined": True}
    kept = await stream_messages(nats_url, "sb.quarantine.>", stream="SWITCHBOARD_QUARANTINE")
    assert [m.data for m in kept] == [body, mixed]
    assert all(m.headers["Switchboard-Verified"] == "false" for m in kept)
    assert "404404" in kept[0].headers["Switchboard-Reason"]
    assert [e.data["provider_message_id"] for e in await events(nats_url, org)] == ["k"]


async def test_bad_input(nats_url):
    org, _ = await meta_sender(nats_url)
    async with running_ingest(nats_url) as client:
        for raw, reason in ((b'{"object": "whatsapp_business_account", "entry": [', "JSON"),
                            (b'{"hello": "world"}', "not a WhatsApp"),
                            (body_of({"object": "whatsapp_business_account", "entry": [{"id": "w", "changes": [
                                {"field": "messages", "value": {"metadata": {"phone_number_id": "111"},
                                                                "messages": [{"id": "w1"}]}}]}]}), "messages.0")):
            r = await client.post("/webhooks/meta", content=raw, headers=meta_signature(SECRET, raw))
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_delivery", raw
            assert reason in r.json()["error"]["message"]
            unsigned = await client.post("/webhooks/meta", content=raw, headers=meta_signature("nope", raw))
            assert unsigned.status_code == 401
        huge = b'{"object": "whatsapp_business_account", "entry": [], "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
        r = await client.post("/webhooks/meta", content=huge, headers=meta_signature(SECRET, huge))
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert await events(nats_url, org) == []


async def test_secrets_never_reach_a_log(nats_url, capfd):
    await meta_sender(nats_url)
    body = body_of(meta_delivery(("waba", [meta_change("111", messages=[meta_message("text", wamid="w")])])))
    async with running_ingest(nats_url, log_level="DEBUG") as client:
        await client.post("/webhooks/meta", content=body, headers=meta_signature("bad", body))
        await client.post("/webhooks/meta", content=body, headers=meta_signature(SECRET, body))
    out, err = capfd.readouterr()
    assert SECRET not in out + err and "verify-1" not in out + err and "EAAB-token" not in out + err
    assert "webhook rejected" in out + err  # the logs were captured: the rejection is there, its secret not
