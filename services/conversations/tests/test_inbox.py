"""The inbox in the conversations service, called as the gateway calls it, against real NATS
JetStream and PostgreSQL: the lifecycle actions and their events, reopening, replies and queries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY

from .inbox_helpers import add_sender, add_team, add_user, as_, eventually, inbound, meta_reports, running_inbox

CONTACT = "+4915112345678"


async def _conversation(client, js, org, sender, at=None, text="hello, where is my order?"):
    mid = new_id()
    await inbound(js, org, sender, CONTACT, text, at or datetime.now(UTC), mid)
    cid = conversation_id(org, sender, CONTACT)
    await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=as_(org)),
                     lambda r: r.status_code == 200)
    return cid


async def _events(js, org, cid, count, timeout=REPLY):
    sub = await js.subscribe(f"sb.evt.{org}.conversation.>", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    seen = []
    try:
        while len(seen) < count:
            msg = await sub.next_msg(timeout=timeout)
            seen.append(json.loads(msg.data))
    finally:
        await sub.unsubscribe()
    return [e for e in seen if e["subject"] == cid]


async def test_an_agent_works_a_conversation_and_every_change_is_an_event_naming_them(nats_url, database_url):
    org, sender, agent, team = new_id(), new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_user(js, org, agent, "Ana")
        await add_team(js, org, team, "Billing")
        cid = await _conversation(client, js, org, sender)
        me = as_(org, agent, "agent")
        fresh = (await client.get(f"/v1/conversations/{cid}", headers=me)).json()
        assert fresh["status"] == "open" and fresh["assignee"] is None and fresh["unread_count"] == 1
        assert fresh["waiting_since"] is not None and fresh["first_reply_at"] is None

        r = await client.post(f"/v1/conversations/{cid}/assign", headers=me, json={"agent_id": "me", "team_id": team})
        assert r.status_code == 200, r.text
        assert r.json()["assignee"] == {"id": agent, "name": "Ana"} and r.json()["team"] == {"id": team, "name": "Billing"}
        r = await client.post(f"/v1/conversations/{cid}/tags", headers=me, json={"add": ["vip", "refund"]})
        assert r.json()["tags"] == ["refund", "vip"]
        r = await client.post(f"/v1/conversations/{cid}/tags", headers=me, json={"remove": ["refund"]})
        assert r.json()["tags"] == ["vip"]
        assert (await client.post(f"/v1/conversations/{cid}/priority", headers=me,
                                  json={"priority": "high"})).json()["priority"] == "high"
        assert (await client.post(f"/v1/conversations/{cid}/customer", headers=me,
                                  json={"customer_id": "C-1001"})).json()["customer_id"] == "C-1001"
        assert (await client.post(f"/v1/conversations/{cid}/notes", headers=me,
                                  json={"text": "called them back"})).status_code == 200
        notes = (await client.get(f"/v1/conversations/{cid}/notes", headers=me)).json()["items"]
        assert [(n["text"], n["actor"]) for n in notes] == [("called them back", {"type": "user", "id": agent})]
        assert (await client.post(f"/v1/conversations/{cid}/read", headers=me)).json()["unread_count"] == 0
        # unread is per reader: the organization's key has not read it
        assert (await client.get(f"/v1/conversations/{cid}", headers=as_(org))).json()["unread_count"] == 1
        r = await client.post(f"/v1/conversations/{cid}/status", headers=me, json={"status": "resolved"})
        assert r.json()["status"] == "resolved" and r.json()["resolved_at"] is not None

        events = await _events(js, org, cid, 9)
    types = [e["type"].split(".")[2] for e in events]
    assert types == ["started", "assigned", "tagged", "untagged", "priority_changed", "customer_linked",
                     "note_added", "read", "status_changed"]
    assert all(e["data"]["actor"] == {"type": "user", "id": agent} for e in events[1:])
    assert [e["data"]["version"] for e in events[1:]] == list(range(2, 10))
    assert events[1]["data"]["agent_id"] == agent and events[1]["data"]["team_id"] == team
    assert events[3]["data"] == {**events[3]["data"], "tags": ["refund"], "all_tags": ["vip"]}


async def test_an_inbound_message_reopens_the_same_conversation_keeping_its_assignee(nats_url, database_url):
    org, sender, agent = new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_user(js, org, agent, "Ana")
        cid = await _conversation(client, js, org, sender)
        me = as_(org, agent, "agent")
        await client.post(f"/v1/conversations/{cid}/assign", headers=me, json={"agent_id": agent})
        await client.post(f"/v1/conversations/{cid}/status", headers=me, json={"status": "resolved"})
        await inbound(js, org, sender, CONTACT, "one more thing", datetime.now(UTC), new_id())
        reopened = await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=me),
                                    lambda r: r.json()["status"] == "open")
        assert reopened.json()["assignee"]["id"] == agent and reopened.json()["id"] == cid
        listed = (await client.get("/v1/conversations", headers=me, params={"contact": CONTACT})).json()["items"]
        assert [c["id"] for c in listed] == [cid]  # never a second conversation
        # snoozed until the next message: the next message opens it too
        assert (await client.post(f"/v1/conversations/{cid}/status", headers=me,
                                  json={"status": "snoozed"})).json()["status"] == "snoozed"
        await inbound(js, org, sender, CONTACT, "hello?", datetime.now(UTC), new_id())
        await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=me),
                         lambda r: r.json()["status"] == "open")
        events = await _events(js, org, cid, 6)
    changes = [(e["data"].get("status"), e["data"].get("reason"), e["data"]["actor"]["type"])
               for e in events if e["type"].endswith("status_changed.v1")]
    assert changes == [("resolved", None, "user"), ("open", "inbound_message", "system"),
                       ("open", "inbound_message", "system")]


async def test_bad_changes_are_refused_naming_the_field_or_the_transition(nats_url, database_url):
    org, sender, viewer = new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_user(js, org, viewer, "Vic", role="viewer")
        cid = await _conversation(client, js, org, sender)
        h = as_(org)
        cases = [("assign", {"agent_id": "no-such-user"}, 422, "agent_id"),
                 ("assign", {"agent_id": viewer}, 422, "agent_id"),
                 ("assign", {"agent_id": "me"}, 422, "agent_id"),  # the organization's key is not a user
                 ("assign", {"team_id": "no-such-team"}, 422, "team_id"),
                 ("assign", {}, 422, None),
                 ("status", {"status": "snoozed", "snoozed_until": "2020-01-01T00:00:00Z"}, 422, "snoozed_until"),
                 ("status", {"status": "archived"}, 409, None),  # only a resolved conversation is archived
                 ("priority", {"priority": "critical"}, 422, "priority"),
                 ("tags", {"add": [" padded"]}, 422, None),
                 ("notes", {"text": ""}, 422, "text")]
        for action, body, status, field in cases:
            r = await client.post(f"/v1/conversations/{cid}/{action}", headers=h, json=body)
            assert r.status_code == status, (action, body, r.text)
            if field:
                assert field in json.dumps(r.json()["error"]), (action, r.text)
        await client.post(f"/v1/conversations/{cid}/status", headers=h, json={"status": "resolved"})
        assert (await client.post(f"/v1/conversations/{cid}/status", headers=h,
                                  json={"status": "archived"})).json()["status"] == "archived"
        r = await client.post(f"/v1/conversations/{cid}/status", headers=h, json={"status": "snoozed"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"
        other = as_(new_id())
        for action, body in (("status", {"status": "open"}), ("notes", {"text": "x"})):
            assert (await client.post(f"/v1/conversations/{cid}/{action}", headers=other, json=body)).status_code == 404
        assert (await client.get(f"/v1/conversations/{cid}", headers=other)).status_code == 404
        assert (await client.post(f"/v1/conversations/{cid}/read")).status_code == 401  # not through the gateway


async def test_replies_canned_responses_templates_and_the_24_hour_window(nats_url, database_url):
    org, simulator, meta, agent = new_id(), new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_user(js, org, agent, "Ana")
        await add_sender(js, org, meta, "meta-cloud", waba_id="waba-1")
        me = as_(org, agent, "agent")
        created = await client.post("/v1/canned-responses", headers=me,
                                    json={"short_code": "thanks", "content": "Thanks {{contact.name|there}}!"})
        assert created.status_code == 201, created.text
        assert (await client.post("/v1/canned-responses", headers=me, json={"short_code": "thanks",
                                                                            "content": "x"})).status_code == 409
        assert (await client.post("/v1/canned-responses", headers=me, json={
            "short_code": "bad", "content": "{{order.id}}"})).status_code == 422
        cid = await _conversation(client, js, org, simulator)
        await client.post(f"/v1/conversations/{cid}/status", headers=me, json={"status": "resolved"})
        r = await client.post(f"/v1/conversations/{cid}/messages", headers=me, json={"canned": "thanks"})
        assert r.status_code == 202, r.text
        sent = r.json()
        assert sent["text"] == "Thanks Ann!" and sent["agent_id"] == agent and sent["status"] == "queued"
        assert sent["conversation_id"] == cid and sent["to"] == CONTACT
        after = (await client.get(f"/v1/conversations/{cid}", headers=me)).json()
        assert after["status"] == "open" and after["waiting_since"] is None and after["first_reply_at"] is not None
        assert (await client.post(f"/v1/conversations/{cid}/messages", headers=me,
                                  json={"canned": "nope"})).status_code == 422
        # a Meta sender whose contact last wrote two days ago: only a template may go
        old = await _conversation(client, js, org, meta, at=datetime.now(UTC) - timedelta(days=2))
        r = await client.post(f"/v1/conversations/{old}/messages", headers=me, json={"text": "hi again"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "outside_window"
        template = {"type": "template", "template": {"name": "order_update", "language": "en_US",
                                                      "parameters": ["A-7"]}}
        r = await client.post(f"/v1/conversations/{old}/messages", headers=me, json=template)
        assert r.status_code == 422 and r.json()["error"]["code"] == "template_not_found", r.text
        made = await client.post("/v1/templates", headers=as_(org), json={
            "sender_id": meta, "name": "order_update", "language": "en_US", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Your order {{1}} is ready.", "example": {"body_text": [["A-1"]]}}]})
        assert made.status_code == 201 and made.json()["status"] == "DRAFT", made.text
        r = await client.post(f"/v1/conversations/{old}/messages", headers=me, json=template)
        assert r.status_code == 422 and r.json()["error"]["details"]["status"] == "DRAFT", r.text
        await meta_reports(js, org, "waba-1", "777", "order_update", "en_US", "APPROVED")
        await eventually(lambda: client.get(f"/v1/templates/{made.json()['id']}", headers=me),
                         lambda r: r.json()["status"] == "APPROVED" and r.json()["meta_template_id"] == "777")
        r = await client.post(f"/v1/conversations/{old}/messages", headers=me, json={
            "type": "template", "template": {**template["template"], "parameters": ["A-7", "extra"]}})
        assert r.status_code == 422 and r.json()["error"]["details"]["extra"] == ["2"], r.text
        r = await client.post(f"/v1/conversations/{old}/messages", headers=me, json=template)
        assert r.status_code == 202 and r.json()["text"] == "Your order A-7 is ready.", r.text
        assert (await client.get(f"/v1/messages/{sent['id']}", headers=me)).json()["agent_id"] == agent


async def test_lists_filter_search_and_count(nats_url, database_url):
    org, sender, agent = new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_user(js, org, agent, "Ana")
        me = as_(org, agent, "agent")
        ids = []
        for i, text in enumerate(["the parcel never arrived", "invoice question", "refund please"]):
            contact = f"+491511234560{i}"
            await inbound(js, org, sender, contact, text, datetime.now(UTC) - timedelta(minutes=10 - i), new_id())
            ids.append(conversation_id(org, sender, contact))
        await eventually(lambda: client.get("/v1/conversations", headers=me),
                         lambda r: len(r.json()["items"]) == 3)
        await client.post(f"/v1/conversations/{ids[0]}/assign", headers=me, json={"agent_id": "me"})
        await client.post(f"/v1/conversations/{ids[1]}/tags", headers=me, json={"add": ["vip"]})
        await client.post(f"/v1/conversations/{ids[2]}/status", headers=me, json={"status": "resolved"})
        await client.post(f"/v1/conversations/{ids[2]}/read", headers=me)

        async def listed(**params):
            r = await client.get("/v1/conversations", headers=me, params=params)
            assert r.status_code == 200, r.text
            return [c["id"] for c in r.json()["items"]]

        assert await listed() == ids[::-1]  # newest activity first
        assert await listed(order="waiting") == ids  # longest waiting first
        assert await listed(assignee="me") == [ids[0]]
        assert await listed(assignee="none") == [ids[2], ids[1]]
        assert await listed(tag="vip") == [ids[1]]
        assert await listed(status="resolved") == [ids[2]]
        assert await listed(unread="true") == [ids[1], ids[0]]
        assert await listed(q="parcel") == [ids[0]]
        assert await listed(q="nothing-like-this") == []
        page = (await client.get("/v1/conversations", headers=me, params={"limit": 2})).json()
        rest = (await client.get("/v1/conversations", headers=me, params={"cursor": page["next_cursor"]})).json()
        assert [c["id"] for c in page["items"] + rest["items"]] == ids[::-1]
        counts = (await client.get("/v1/conversations/counts", headers=me)).json()
        assert counts == {"by_status": {"open": 2, "pending": 0, "snoozed": 0, "resolved": 1, "archived": 0},
                          "mine": 1, "unassigned": 1}
        assert (await client.get("/v1/conversations", headers=as_(new_id()))).json()["items"] == []


async def test_stats_count_messages_and_time_first_replies_and_resolutions(nats_url, database_url):
    from switchboard_contracts import message

    from .inbox_helpers import publish

    org, sender = new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        h = as_(org)
        cids = []
        for i in range(2):
            contact = f"+491511234570{i}"
            await inbound(js, org, sender, contact, "hi", datetime.now(UTC) - timedelta(seconds=30), new_id())
            cids.append(conversation_id(org, sender, contact))
        await eventually(lambda: client.get("/v1/conversations", headers=h), lambda r: len(r.json()["items"]) == 2)
        reply = (await client.post(f"/v1/conversations/{cids[0]}/messages", headers=h, json={"text": "hello"})).json()
        await publish(js, org, message.MessageStatus(message_id=reply["id"], sender_id=sender,
                                                     recipient="+4915112345700", status="delivered",
                                                     timestamp=datetime.now(UTC)), message.STATUS)
        for cid in cids:
            await client.post(f"/v1/conversations/{cid}/status", headers=h, json={"status": "resolved"})
        stats = await eventually(lambda: client.get("/v1/stats/messages", headers=h),
                                 lambda r: r.json()["by_status"]["outbound"].get("delivered") == 1)
        body = stats.json()
        assert body["inbound"] == 2 and body["outbound"] == 1 and body["delivery_rate"] == 1.0
        assert body["read_rate"] == 0.0
        conv = (await client.get("/v1/stats/conversations", headers=h)).json()
        assert conv["opened"] == 2 and conv["resolved"] == 2
        assert conv["first_response_seconds"]["count"] == 1 and 29 <= conv["first_response_seconds"]["median"] < 60
        assert conv["resolution_seconds"]["count"] == 2 and conv["resolution_seconds"]["median"] >= 29
        assert conv["sla"] == {"hit": 0, "missed": 0}
        empty = await client.get("/v1/stats/conversations", headers=h, params={
            "from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"})  # ends before it starts
        assert empty.status_code == 200 and empty.json()["opened"] == 0
        for bad in ({"from": "yesterday"}, {"to": "2026-12-01T00:00:00"}, {"to": "0.5"}):
            r = await client.get("/v1/stats/messages", headers=h, params=bad)
            assert r.status_code == 422 and r.json()["error"]["details"]["field"] in bad, r.text
        assert (await client.get("/v1/stats/messages", headers=as_(new_id()))).json()["outbound"] == 0


async def test_a_rebuild_restores_each_conversations_inbox_state_from_its_events(nats_url, database_url):
    from switchboard_conversations.rebuild import rebuild
    from switchboard_conversations.settings import ConversationsSettings

    org, sender, agent = new_id(), new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        await add_user(js, org, agent, "Ana")
        cid = await _conversation(client, js, org, sender)
        me = as_(org, agent, "agent")
        for action, body in (("assign", {"agent_id": "me"}), ("tags", {"add": ["vip"]}), ("priority", {"priority": "urgent"}),
                             ("notes", {"text": "n1"}), ("customer", {"customer_id": "C-9"}), ("status", {"status": "pending"})):
            assert (await client.post(f"/v1/conversations/{cid}/{action}", headers=me, json=body)).status_code == 200
        await client.post(f"/v1/conversations/{cid}/read", headers=me)
        before = (await client.get(f"/v1/conversations/{cid}", headers=me)).json()
        result = await rebuild(ConversationsSettings(nats_url=nats_url, database_url=database_url))
        assert result["conversations_restored"] >= 1
        after = (await client.get(f"/v1/conversations/{cid}", headers=me)).json()
        notes = (await client.get(f"/v1/conversations/{cid}/notes", headers=me)).json()["items"]
    kept = ("status", "assignee", "priority", "tags", "customer_id", "unread_count", "version", "message_count")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert [n["text"] for n in notes] == ["n1"]


async def test_a_read_row_a_crash_left_behind_is_healed_from_the_events(nats_url, database_url):
    """A change whose aggregate was saved but whose read rows were never written (the process died in
    between): the relay publishes its events, and the row catches up."""
    from switchboard_conversations.application import ConversationsApp, NewConversation
    from switchboard_conversations.settings import ConversationsSettings
    from switchboard_runtime.eventstore import call, postgres_application

    org, sender = new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (client, js):
        cid = await _conversation(client, js, org, sender)
        settings = ConversationsSettings(nats_url=nats_url, database_url=database_url)
        app = postgres_application(ConversationsApp, settings.database(), "conversations")
        item = NewConversation(org, sender, CONTACT, "Ann", datetime.now(UTC))
        now = datetime.now(UTC)
        await call(app.change, item, lambda c: (c.change_tags(["lost"], [], {"type": "user", "id": "u"}, now),
                                                c.add_note("note-1", "kept", {"type": "user", "id": "u"}, now)))
        healed = await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=as_(org)),
                                  lambda r: r.json()["tags"] == ["lost"])
        notes = (await client.get(f"/v1/conversations/{cid}/notes", headers=as_(org))).json()["items"]
    assert healed.json()["version"] >= 3 and [n["text"] for n in notes] == ["kept"]
