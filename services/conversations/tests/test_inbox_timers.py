"""The inbox's timers (snooze end, auto-archive, auto-resolve) and a flow's handoff, against real NATS
JetStream and PostgreSQL: each happens once, also when the service was down when it fell due."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import nats

from switchboard_contracts import flow
from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY

from .inbox_helpers import add_team, as_, eventually, inbound, publish, running_inbox

CONTACT = "+4915112345678"
FAST = {"inbox_due_poll_seconds": 0.2}


async def _open(client, js, org, sender):
    await inbound(js, org, sender, CONTACT, "hello", datetime.now(UTC), new_id())
    cid = conversation_id(org, sender, CONTACT)
    await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=as_(org)),
                     lambda r: r.status_code == 200)
    return cid


async def _status_events(js, org, cid, settle=1.0):
    sub = await js.subscribe(f"sb.evt.{org}.conversation.>", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    seen = []
    try:
        while True:
            msg = await sub.next_msg(timeout=settle)
            seen.append(json.loads(msg.data))
    except nats.errors.TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return [(e["type"].split(".")[2], e["data"].get("status"), e["data"].get("reason")) for e in seen
            if e["subject"] == cid and e["type"].split(".")[2] in ("status_changed", "snoozed", "archived")]


async def test_a_snooze_that_fell_due_while_the_service_was_down_ends_once_after_it_starts(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_inbox(nats_url, database_url, **FAST) as (client, js):
        cid = await _open(client, js, org, sender)
        until = datetime.now(UTC) + timedelta(seconds=1.5)
        r = await client.post(f"/v1/conversations/{cid}/status", headers=as_(org),
                              json={"status": "snoozed", "snoozed_until": until.isoformat()})
        assert r.json()["status"] == "snoozed"
    await asyncio.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.5)  # due while down
    async with running_inbox(nats_url, database_url, **FAST) as (client, js):
        await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=as_(org)),
                         lambda r: r.json()["status"] == "open")
        events = await _status_events(js, org, cid)
    assert events == [("snoozed", None, None), ("status_changed", "open", "snooze_ended")]


async def test_resolved_conversations_are_archived_and_idle_ones_auto_resolved_once(nats_url, database_url):
    org, sender, other = new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url, archive_after_days=2 / 86_400, **FAST) as (client, js):
        cid = await _open(client, js, org, sender)
        await client.post(f"/v1/conversations/{cid}/status", headers=as_(org), json={"status": "resolved"})
        await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=as_(org)),
                         lambda r: r.json()["status"] == "archived", timeout=15)
        # auto-resolve is off by default: an idle open conversation stays open
        idle = await _open(client, js, other, sender)
        assert (await client.get("/v1/inbox-settings", headers=as_(other))).json() == {
            "auto_resolve": False, "auto_resolve_after_seconds": 86_400}
        await asyncio.sleep(1.5)
        assert (await client.get(f"/v1/conversations/{idle}", headers=as_(other))).json()["status"] == "open"
        r = await client.patch("/v1/inbox-settings", headers=as_(other),
                               json={"auto_resolve": True, "auto_resolve_after_seconds": 1})
        assert r.json() == {"auto_resolve": True, "auto_resolve_after_seconds": 1}
        await eventually(lambda: client.get(f"/v1/conversations/{idle}", headers=as_(other)),
                         lambda r: r.json()["status"] == "resolved")
        assert (await client.patch("/v1/inbox-settings", headers=as_(other), json={})).status_code == 422
        archived = await _status_events(js, org, cid)
        resolved = await _status_events(js, other, idle)
    assert archived == [("status_changed", "resolved", None), ("archived", None, "auto_archive")]
    assert resolved[0] == ("status_changed", "resolved", "auto_resolve")  # and archived 2 s later, once
    assert resolved[1:] in ([], [("archived", None, "auto_archive")])


async def test_a_flow_handoff_opens_the_conversation_for_its_team(nats_url, database_url):
    org, sender, team, execution = new_id(), new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_team(js, org, team, "Support")
        cid = await _open(client, js, org, sender)
        await client.post(f"/v1/conversations/{cid}/status", headers=as_(org), json={"status": "pending"})
        handoff = flow.HandoffRequested(execution_id=execution, flow_id=new_id(), conversation_id=cid,
                                        sender_id=sender, contact=CONTACT, team_id=team, at=datetime.now(UTC))
        await publish(js, org, handoff, flow.HANDOFF_REQUESTED)
        await publish(js, org, handoff, flow.HANDOFF_REQUESTED)  # a repeat changes nothing
        done = await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=as_(org)),
                                lambda r: r.json()["team"] is not None)
        assert done.json()["status"] == "open" and done.json()["team"] == {"id": team, "name": "Support"}
        sub = await js.subscribe(f"sb.evt.{org}.conversation.assigned", ordered_consumer=True,
                                 stream="SWITCHBOARD_EVENTS")
        assigned = json.loads((await sub.next_msg(timeout=REPLY)).data)["data"]
    assert assigned["actor"] == {"type": "flow", "id": execution} and assigned["execution_id"] == execution


async def _events_of(js, org, cid, settle=1.0):
    sub = await js.subscribe(f"sb.evt.{org}.conversation.>", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    seen = []
    try:
        while True:
            seen.append(json.loads((await sub.next_msg(timeout=settle)).data))
    except nats.errors.TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return [e for e in seen if e["subject"] == cid]


async def test_an_sla_of_seconds_warns_breaches_and_escalates_once(nats_url, database_url):
    org, sender, team = new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url, **FAST) as (client, js):
        await add_team(js, org, team, "Escalations")
        h = as_(org)
        assert (await client.post("/v1/sla-policies", headers=h, json={
            "name": "x", "first_response_seconds": 3, "escalation": {"team_id": "nope"}})).status_code == 422
        assert (await client.post("/v1/sla-policies", headers=h, json={"name": "no target"})).status_code == 422
        r = await client.post("/v1/sla-policies", headers=h, json={
            "name": "fast", "first_response_seconds": 3, "warning_before_seconds": 2,
            "escalation": {"raise_priority": True, "team_id": team}})
        assert r.status_code == 201, r.text
        policy = r.json()
        cid = await _open(client, js, org, sender)
        planned = await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=h),
                                   lambda r: r.json()["sla"] is not None)
        assert planned.json()["sla"]["status"] == "active" and planned.json()["sla"]["policy"]["name"] == "fast"
        breached = await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=h),
                                    lambda r: r.json()["team"] is not None, timeout=15)
        assert breached.json()["priority"] == "low" and breached.json()["team"]["id"] == team
        assert breached.json()["sla"]["status"] == "missed"
        missed = (await client.get("/v1/conversations", headers=h, params={"sla": "missed"})).json()["items"]
        assert [c["id"] for c in missed] == [cid]
        # a tag policy added later applies from when the contact began to wait: at once overdue
        other = new_id()
        later = await _open(client, js, org, other)
        await client.put(f"/v1/sla-policies/{policy['id']}", headers=h, json={"name": "slow", "first_response_seconds": 3600})
        await client.post("/v1/sla-policies", headers=h, json={"name": "vip", "first_response_seconds": 1,
                                                               "applies_to": {"tag": "vip"}})
        slow = await eventually(lambda: client.get(f"/v1/conversations/{later}", headers=h),
                                lambda r: (r.json()["sla"] or {}).get("policy", {}).get("name") == "slow")
        assert slow.json()["sla"]["status"] == "active"
        await client.post(f"/v1/conversations/{later}/tags", headers=h, json={"add": ["vip"]})
        await eventually(lambda: client.get(f"/v1/conversations/{later}", headers=h),
                         lambda r: r.json()["sla"]["policy"]["name"] == "vip" and r.json()["sla"]["status"] == "missed")
        events = await _events_of(js, org, cid)
    kinds = [(e["type"].split(".")[2], e["data"].get("target"), e["data"].get("reason")) for e in events]
    assert kinds[1:] == [("sla_warning", "first_response", None), ("sla_breached", "first_response", None),
                         ("priority_changed", None, "sla_escalation"), ("assigned", None, None)]
    assert all(e["data"]["actor"] == {"type": "system", "id": "sla"} for e in events[1:])
