"""The inbox through every service as `make run` starts them: an admin creates an agent, a viewer and a
team; inbound messages open a conversation; the agent assigns it to themselves, replies with a canned
response, tags and resolves it; a new inbound message reopens the same conversation; an SLA of a few
seconds breaches and escalates; an SSE client disconnects mid-way and resumes with no event missed or
repeated; a viewer's reply is a 403."""

from __future__ import annotations

import json

import httpx

from .e2e_platform import api, poll, stream_events


def read_sse(client: httpx.Client, params: dict, headers: dict, count: int, on_ready=None) -> list[dict]:
    """Open /v1/stream, call `on_ready` once it is registered, read `count` events, disconnect."""
    events, frame = [], {}
    with client.stream("GET", "/v1/stream", params=params, headers=headers,
                       timeout=httpx.Timeout(30, read=30)) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line == ": connected" and on_ready:
                on_ready()
            elif line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(":")
                frame[key] = value.strip()
            elif line == "" and frame:
                events.append(frame)
                frame = {}
                if len(events) == count:
                    break
    return events


def test_an_agent_works_a_conversation_from_first_message_to_reopen(platform):
    contact, other = "+4915112349001", "+4915112349002"
    with api(platform) as admin:
        org = admin.get("/v1/me").json()["org_id"]
        sender = admin.post("/v1/senders", json={"name": "support", "provider": "simulator"}).json()["id"]
        agent = admin.post("/v1/users", json={"email": "ana@example.com", "name": "Ana", "role": "agent"})
        assert agent.status_code == 201, agent.text
        viewer = admin.post("/v1/users", json={"email": "vic@example.com", "name": "Vic", "role": "viewer"}).json()
        team = admin.post("/v1/teams", json={"name": "Tier 2"}).json()
        assert admin.post(f"/v1/teams/{team['id']}/members", json={"user_id": agent.json()["id"]}).status_code in (200, 201)
        assert admin.post("/v1/canned-responses", json={
            "short_code": "hello", "content": "Hello {{contact.name|there}}, we are on it."}).status_code == 201
        assert admin.post("/v1/sla-policies", json={
            "name": "vip", "first_response_seconds": 2, "applies_to": {"tag": "vip"},
            "escalation": {"raise_priority": True, "team_id": team["id"]}}).status_code == 201
        me = {"X-API-Key": agent.json()["api_key"]}
        cid = {}

        def first_message():
            admin.post(f"/v1/senders/{sender}/simulate/inbound",
                       json={"from": contact, "text": "My parcel is late", "contact_name": "Ben"})
            found = poll(lambda: admin.get("/v1/conversations", params={"contact": contact}).json()["items"], bool)
            cid["id"] = found[0]["id"]
            c = f"/v1/conversations/{cid['id']}"
            assert admin.post(f"{c}/assign", headers=me, json={"agent_id": "me"}).json()["assignee"]["name"] == "Ana"
            reply = admin.post(f"{c}/messages", headers=me, json={"canned": "hello"})
            assert reply.status_code == 202 and reply.json()["text"] == "Hello Ben, we are on it."
            assert admin.post(f"{c}/tags", headers=me, json={"add": ["parcel"]}).json()["tags"] == ["parcel"]

        stream = {"types": "conversation.*"}
        before = read_sse(admin, stream, me, 3, on_ready=first_message)  # started, assigned, tagged
        c = f"/v1/conversations/{cid['id']}"
        # while the client is away: resolved, then the contact writes again
        assert admin.post(f"{c}/status", headers=me, json={"status": "resolved"}).json()["status"] == "resolved"
        admin.post(f"/v1/senders/{sender}/simulate/inbound", json={"from": contact, "text": "Still nothing"})
        reopened = poll(lambda: admin.get(c, headers=me).json(), lambda v: v["status"] == "open")
        assert reopened["assignee"]["id"] == agent.json()["id"]
        assert [x["id"] for x in admin.get("/v1/conversations", params={"contact": contact}).json()["items"]] == [cid["id"]]
        after = read_sse(admin, stream, {**me, "Last-Event-ID": before[-1]["id"]}, 2)  # resolved, reopened

        # a viewer reads but may not reply
        v = {"X-API-Key": viewer["api_key"]}
        assert admin.get(c, headers=v).status_code == 200
        r = admin.post(f"{c}/messages", headers=v, json={"text": "hi"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

        # an SLA of seconds: a VIP conversation nobody answers breaches and escalates to the team
        admin.post(f"/v1/senders/{sender}/simulate/inbound", json={"from": other, "text": "urgent!"})
        vip = poll(lambda: admin.get("/v1/conversations", params={"contact": other}).json()["items"], bool)[0]["id"]
        admin.post(f"/v1/conversations/{vip}/tags", headers=me, json={"add": ["vip"]})
        escalated = poll(lambda: admin.get(f"/v1/conversations/{vip}").json(), lambda v: v["team"] is not None,
                         timeout=20)
        assert escalated["priority"] == "low" and escalated["team"]["id"] == team["id"]
        assert escalated["sla"]["status"] == "missed"

    seen = [(e["event"], json.loads(e["data"])["subject"]) for e in before + after]
    ids = [int(e["id"]) for e in before + after]
    assert ids == sorted(set(ids))  # none repeated, in order
    stored = [e for e in stream_events(platform, f"sb.evt.{org}.conversation.>") if e["subject"] == cid["id"]]
    assert seen == [(e["type"].split(".")[1] + "." + e["type"].split(".")[2], e["subject"]) for e in stored[:5]]
    assert [e["event"] for e in after] == ["conversation.status_changed", "conversation.status_changed"]
    sla = [e["type"].split(".")[2] for e in stream_events(platform, f"sb.evt.{org}.conversation.>")
           if e["subject"] == vip]
    assert "sla_breached" in sla and sla.count("sla_breached") == 1
