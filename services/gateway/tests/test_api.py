"""The gateway's REST API against real NATS JetStream and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from switchboard_contracts import commands, message
from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.ids import new_id
from switchboard_conversations.rebuild import rebuild as rebuild_conversations
from switchboard_conversations.settings import ConversationsSettings
from switchboard_devkit.testing.patience import REPLY
from switchboard_gateway.cli import rebuild_projections
from switchboard_gateway.settings import GatewaySettings
from switchboard_runtime.messaging.heartbeat import Heartbeat

from .helpers import publish_event, running_gateway

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def eventually(fn, predicate, timeout=REPLY):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fn()
        if predicate(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {value}"
        await asyncio.sleep(0.05)


async def new_org(orgs, name="Acme"):
    org, key = await orgs.create(name)
    return org, {"X-API-Key": key}


async def test_me_needs_a_valid_key(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, _, orgs):
        org, headers = await new_org(orgs)
        me = await client.get("/v1/me", headers=headers)
        assert me.status_code == 200, me.text
        key_id = me.json()["actor"]["id"]  # the organization's key acts as an admin, named by its id
        assert me.json() == {"org_id": org.id, "name": "Acme", "role": "admin",
                             "actor": {"type": "api_key", "id": key_id}} and key_id
        for bad in ({}, {"X-API-Key": "sb_live_wrong"}):
            r = await client.get("/v1/me", headers=bad)
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


async def test_send_publishes_a_normalized_command(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        created = await client.post("/v1/senders", headers=headers,
                                    json={"name": "s", "provider": "simulator", "quotas": {"per_minute": 5}})
        assert created.status_code == 201, created.text
        sender = created.json()
        assert sender["status"] in ("registered", "connected") and sender["quotas"]["per_minute"] == 5
        sent = await client.post("/v1/messages", headers=headers,
                                 json={"sender_id": sender["id"], "to": "+49 (151) 1234-5678", "text": "hi"})
        assert sent.status_code == 202 and sent.json()["status"] == "queued"
        sub = await js.pull_subscribe(f"sb.cmd.{org.id}.message.send", durable="test_send",
                                      stream="SWITCHBOARD_COMMANDS")
        [raw] = await sub.fetch(1, timeout=REPLY)
        cmd = CloudEvent.from_json_bytes(raw.data)
        assert cmd.type == commands.SEND_MESSAGE and cmd.id == sent.json()["id"]
        assert cmd.data["to"] == "+4915112345678" and cmd.orgid == org.id


async def test_bad_input_is_a_clear_json_error(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, _, orgs):
        _, headers = await new_org(orgs)
        _, other_headers = await new_org(orgs, "Other")
        sender_id = (await client.post("/v1/senders", headers=headers,
                                       json={"name": "s", "provider": "simulator"})).json()["id"]
        r = await client.post("/v1/messages", headers=headers,
                              json={"sender_id": sender_id, "to": "not a number", "text": "hi"})
        assert r.status_code == 422
        assert [f["field"] for f in r.json()["error"]["details"]["fields"]] == ["to"]
        r = await client.post("/v1/messages", headers=headers, json={"sender_id": sender_id, "to": "+4915112345678"})
        assert r.status_code == 422 and "text" in r.json()["error"]["message"]
        r = await client.post("/v1/messages", headers={**headers, "Content-Type": "application/json"},
                              content=b'{"sender_id": ')
        assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
        r = await client.post("/v1/messages", headers={**headers, "Content-Type": "application/json"},
                              content=json.dumps({"text": "x" * 1_100_000}).encode())
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
        for h in (headers, other_headers):  # unknown, and another organization's sender
            sid = new_id() if h is headers else sender_id
            r = await client.post("/v1/messages", headers=h, json={"sender_id": sid, "to": "+4915112345678",
                                                                    "text": "hi"})
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert (await client.get(f"/v1/senders/{sender_id}", headers=other_headers)).status_code == 404
        r = await client.get("/v1/nowhere", headers=headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = await client.get("/v1/conversations?cursor=garbage", headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_cursor"


async def test_message_status_from_out_of_order_and_repeated_events(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        sid, mid = new_id(), new_id()
        to = "+4915112345678"
        def status(st, minutes):
            return message.MessageStatus(message_id=mid, sender_id=sid, recipient=to, status=st,
                                         timestamp=T0 + timedelta(minutes=minutes))
        # read arrives first, then the message itself, then delivered, sent — and read again
        await publish_event(js, org.id, message.STATUS, status("read", 3), "s-read")
        await publish_event(js, org.id, message.ACCEPTED, message.MessageAccepted(
            message_id=mid, sender_id=sid, to=to, text="hello", client_ref="o-1", timestamp=T0), "acc")
        await publish_event(js, org.id, message.STATUS, status("delivered", 2), "s-del")
        await publish_event(js, org.id, message.STATUS, status("sent", 1), "s-sent")
        got = await eventually(lambda: client.get(f"/v1/messages/{mid}", headers=headers),
                               lambda r: r.status_code == 200 and len(r.json()["statuses"]) == 4)
        body = got.json()
        assert body["status"] == "read" and body["client_ref"] == "o-1" and body["to"] == to
        assert [s["status"] for s in body["statuses"]] == ["queued", "sent", "delivered", "read"]
        assert body["conversation_id"] == conversation_id(org.id, sid, to)
        await publish_event(js, org.id, message.STATUS, status("delivered", 2), "s-del-again")
        await publish_event(js, org.id, message.ACCEPTED, message.MessageAccepted(
            message_id=new_id(), sender_id=sid, to=to, text="marker", timestamp=T0), "marker")
        await eventually(lambda: client.get(f"/v1/conversations/{body['conversation_id']}", headers=headers),
                         lambda r: r.status_code == 200 and r.json()["message_count"] == 2)
        again = (await client.get(f"/v1/messages/{mid}", headers=headers)).json()
        assert again == body  # the repeat changed nothing, not even updated_at


async def test_conversation_pagination_walks_every_item_once(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        sid = new_id()
        for i in range(7):
            await publish_event(js, org.id, message.RECEIVED, message.MessageReceived(
                message_id=f"in-{i}", provider_message_id=f"w{i}", sender_id=sid, **{"from": f"+49151123456{i:02d}"},
                to="+15550000001", timestamp=T0 + timedelta(seconds=i), type="text", text=f"m{i}"), f"r{i}")
        await eventually(lambda: client.get("/v1/conversations?limit=50", headers=headers),
                         lambda r: len(r.json()["items"]) == 7)
        seen, cursor = [], None
        while True:
            url = "/v1/conversations?limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = (await client.get(url, headers=headers)).json()
            seen += [c["contact"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [f"+49151123456{i:02d}" for i in reversed(range(7))]  # newest activity first
        cid = conversation_id(org.id, sid, "+4915112345600")
        msgs = (await client.get(f"/v1/conversations/{cid}/messages", headers=headers)).json()
        assert [m["text"] for m in msgs["items"]] == ["m0"] and msgs["items"][0]["direction"] == "inbound"


async def test_readyz_lists_missing_services_until_they_report(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, _):
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert "service:session-pool" in r.json()["missing"]
        for name in ("session-pool", "conversations", "webhook-ingest", "campaigns", "flows", "webhooks"):
            await Heartbeat(js, name).beat()
        r = await eventually(lambda: client.get("/readyz"), lambda r: r.status_code == 200)
        assert r.json()["ready"] is True


async def test_rebuild_reproduces_the_read_models(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        sender_id = (await client.post("/v1/senders", headers=headers,
                                       json={"name": "s", "provider": "simulator"})).json()["id"]
        mid = new_id()
        await publish_event(js, org.id, message.ACCEPTED, message.MessageAccepted(
            message_id=mid, sender_id=sender_id, to="+4915112345678", text="x", timestamp=T0), "a1")
        await publish_event(js, org.id, message.STATUS, message.MessageStatus(
            message_id=mid, sender_id=sender_id, recipient="+4915112345678", status="sent",
            timestamp=T0 + timedelta(minutes=1)), "a2")
        before = (await eventually(lambda: client.get(f"/v1/messages/{mid}", headers=headers),
                                   lambda r: r.status_code == 200 and r.json()["status"] == "sent")).json()
        convs_before = (await client.get("/v1/conversations", headers=headers)).json()
        result = await rebuild_projections(GatewaySettings(nats_url=nats_url, database_url=database_url))
        assert result["replayed_events"] >= 2  # the sender's events
        result = await rebuild_conversations(ConversationsSettings(nats_url=nats_url, database_url=database_url))
        assert result["replayed_events"] >= 2  # the message's
        after = (await client.get(f"/v1/messages/{mid}", headers=headers)).json()
        assert {k: v for k, v in after.items() if k != "updated_at"} == \
               {k: v for k, v in before.items() if k != "updated_at"}
        assert (await client.get("/v1/conversations", headers=headers)).json() == convs_before
        assert (await client.get(f"/v1/senders/{sender_id}", headers=headers)).json()["status"] == "connected"


META = {"name": "Support line", "provider": "meta-cloud",
        "config": {"phone_number_id": "106540352242922", "waba_id": "102290129340398",
                   "access_token": "EAAB-access", "app_secret": "app-secret-x", "verify_token": "verify-x"}}


async def test_provider_senders_keep_their_secrets_sealed(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        created = await client.post("/v1/senders", headers=headers, json=META)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["provider"] == "meta-cloud"
        assert body["config"] == {"phone_number_id": "106540352242922", "waba_id": "102290129340398"}
        listed = await client.get("/v1/senders", headers=headers)
        for text_ in (created.text, listed.text):
            assert "EAAB-access" not in text_ and "app-secret-x" not in text_ and "verify-x" not in text_
        [cmd] = [c for c in client.registered if c.data["sender_id"] == body["id"]]
        assert "EAAB-access" not in cmd.to_json_bytes().decode() and cmd.data["sealed_credentials"]
        assert cmd.data["config"]["phone_number_id"] == "106540352242922"

        waha = await client.post("/v1/senders", headers=headers, json={
            "name": "web", "provider": "waha",
            "config": {"base_url": "http://127.0.0.1:3000", "session": "shop", "webhook_hmac_key": "hk"}})
        assert waha.status_code == 201 and waha.json()["config"] == {"session": "shop"}

        # one number belongs to one sender, across organizations
        _, other = await new_org(orgs, "Other")
        taken = await client.post("/v1/senders", headers=other, json=META)
        assert taken.status_code == 409 and taken.json()["error"]["details"]["field"] == "phone_number_id"

        bad = [{**META, "config": {k: v for k, v in META["config"].items() if k != "app_secret"}},
               {**META, "provider": "telegram"},
               {**META, "config": {**META["config"], "api_base_url": "ftp://x"}},
               {"name": "w", "provider": "waha", "config": {"session": "s"}}]
        for payload in bad:
            r = await client.post("/v1/senders", headers=headers, json=payload)
            assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", payload


async def test_a_service_that_is_away_is_a_503_with_retry_after(nats_url, database_url):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
        _, headers = await new_org(orgs)
        sender_id = (await client.post("/v1/senders", headers=headers,
                                       json={"name": "s", "provider": "simulator"})).json()["id"]
        for method, path, body in (("POST", "/v1/messages", {"sender_id": sender_id, "to": "+4915112345678",
                                                             "text": "hi"}),
                                   ("GET", f"/v1/messages/{new_id()}", None), ("GET", "/v1/conversations", None)):
            r = await client.request(method, path, headers=headers, json=body)
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "unavailable" and int(r.headers["Retry-After"]) > 0
        assert (await client.get("/v1/me", headers=headers)).status_code == 200  # the gateway itself is fine


async def test_a_nul_character_in_a_body_is_a_422_naming_the_field(nats_url, database_url):
    """PostgreSQL cannot store NUL: refused at the edge, not retried deep inside (a sender command)."""
    async with running_gateway(nats_url, database_url) as (client, _, orgs):
        _, headers = await new_org(orgs)
        r = await client.post("/v1/senders", headers=headers, json={"name": "a\x00b", "provider": "simulator"})
        assert r.status_code == 422, r.text
        assert [f["field"] for f in r.json()["error"]["details"]["fields"]] == ["name"]
        r = await client.post("/v1/messages", headers=headers, json={
            "sender_id": new_id(), "to": "+4915112345678", "text": "ok", "client_ref": ["x", "y\x00"]})
        assert r.status_code == 422 and r.json()["error"]["details"]["fields"][0]["field"] == "client_ref.1"
        ok = await client.post("/v1/senders", headers=headers, json={"name": "a\\u0000 as text", "provider": "simulator"})
        assert ok.status_code == 201, ok.text  # the six characters \u0000 are no NUL
        r = await client.get("/v1/senders?label=a%00b", headers=headers)  # nor in a query or a path
        assert r.status_code == 422 and r.json()["error"]["details"]["fields"][0]["field"] == "query"
