"""The flows service on real NATS and PostgreSQL: a keyword flow runs from an inbound message to its
end (a send command per message node, a durable delay), a message delivered twice starts nothing new
and sends nothing twice, and every step is a public event."""

from __future__ import annotations

import asyncio
import copy

from switchboard_contracts.ids import new_id
from switchboard_runtime.http.internal_auth import ACTOR_ID_HEADER, ACTOR_TYPE_HEADER

from .flow_helpers import Sends, active_flow, as_org, events, inbound, running_flows, status
from .test_executor import EXAMPLE

SENDER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


async def test_a_keyword_flow_runs_to_its_end_once_even_when_its_trigger_arrives_twice(nats_url, database_url):
    org, contact = new_id(), "+4915112345678"
    async with running_flows(nats_url, database_url) as (js, http), Sends(js) as sends:
        flow_id = await active_flow(http, org, EXAMPLE)
        trigger = await inbound(js, org, SENDER, contact, "what is my order STATUS?")
        await inbound(js, org, SENDER, contact, "what is my order STATUS?", event_id=trigger.id, msg_id=new_id())
        [ask] = await sends.take(1)
        assert ask["text"] == "Hi Ana, yes or no?" and ask["to"] == contact and ask["sender_id"] == SENDER
        assert ask["client_ref"].startswith("flow:")
        await sends.none_within(1.0)  # the second copy started nothing and sent nothing
        await status(js, org, ask, "sent")
        listed = (await http.get(f"/v1/flows/{flow_id}/executions", headers=as_org(org))).json()["items"]
        for _ in range(50):  # bounded: the status reaches the execution
            if listed[0]["waiting_for"] == "reply":
                break
            await asyncio.sleep(0.1)
            listed = (await http.get(f"/v1/flows/{flow_id}/executions", headers=as_org(org))).json()["items"]
        assert len(listed) == 1 and listed[0]["waiting_for"] == "reply"
        await inbound(js, org, SENDER, contact, "Yes!")
        loop = asyncio.get_running_loop()
        replied_at = loop.time()
        [thanks] = await sends.take(1)
        assert loop.time() - replied_at >= 1.0  # the 2 s delay (rounded to whole seconds by the scheduler)
        assert thanks["text"] == "Thanks!"
        await status(js, org, thanks, "sent")
        ended = await events(js, org, "flow.execution_completed", lambda evs: len(evs) >= 1)
        execution_id = ended[0].data["execution_id"]
        view = (await http.get(f"/v1/executions/{execution_id}", headers=as_org(org))).json()
        assert view["status"] == "completed"
        assert [(s["node"], s["exit"]) for s in view["steps"]] == [
            ("start", None), ("ask", "sent"), ("wait", "reply"), ("route", "yes"), ("pause", None),
            ("thanks", "sent"), ("end", None)]
        steps = await events(js, org, "flow.step_completed", lambda evs: len(evs) >= 7)
        assert [e.data["node"] for e in steps] == ["start", "ask", "wait", "route", "pause", "thanks", "end"]
        other = (await http.get(f"/v1/executions/{execution_id}", headers=as_org(new_id()))).status_code
        assert other == 404


async def test_definitions_are_validated_published_as_revisions_and_pinned(nats_url, database_url):
    org, user = new_id(), new_id()
    as_user = {**as_org(org), ACTOR_TYPE_HEADER: "user", ACTOR_ID_HEADER: user}
    actor = {"type": "user", "id": user}
    async with running_flows(nats_url, database_url) as (js, http):
        bad = copy.deepcopy(EXAMPLE)
        bad["edges"].append({"from": "route", "to": "nowhere", "exit": "maybe"})
        answer = await http.post("/v1/flows/validate", json=bad, headers=as_org(org))
        assert answer.status_code == 422, answer.text
        problems = answer.json()["error"]["details"]["problems"]
        assert any(p["node"] == "route" and "nowhere" in p["message"] for p in problems)
        assert (await http.post("/v1/flows/validate", json=EXAMPLE, headers=as_org(org))).json() == {"valid": True}
        assert (await http.post("/v1/flows", json=bad, headers=as_org(org))).status_code == 422
        flow_id = (await http.post("/v1/flows", json=EXAMPLE, headers=as_user)).json()["id"]
        activate = await http.post(f"/v1/flows/{flow_id}/activate", headers=as_org(org))
        assert activate.status_code == 409  # nothing published yet
        assert (await http.post(f"/v1/flows/{flow_id}/publish", headers=as_user)).json() == {"revision": 1}
        second = copy.deepcopy(EXAMPLE)
        second["nodes"][1]["message"]["text"] = "Second revision"
        assert (await http.put(f"/v1/flows/{flow_id}", json=second, headers=as_org(org))).status_code == 200
        assert (await http.post(f"/v1/flows/{flow_id}/publish", headers=as_org(org))).json() == {"revision": 2}
        revisions = (await http.get(f"/v1/flows/{flow_id}/revisions", headers=as_org(org))).json()["items"]
        assert [r["revision"] for r in revisions] == [1, 2]
        assert revisions[0]["definition"]["nodes"][1]["message"]["text"].startswith("Hi ")
        start = await http.post(f"/v1/flows/{flow_id}/executions", json={"to": "+4915112345679", "sender_id": SENDER},
                                headers=as_org(org))
        assert start.status_code == 409  # not active
        assert (await http.get(f"/v1/flows/{flow_id}", headers=as_org(new_id()))).status_code == 404
        # every event an API action causes names the caller (`actor`); the key of a call without one
        assert (await http.post(f"/v1/flows/{flow_id}/activate", headers=as_user)).status_code == 200
        start = await http.post(f"/v1/flows/{flow_id}/executions", json={"to": "+4915112345679", "sender_id": SENDER},
                                headers=as_user)
        assert start.status_code == 201, start.text
        execution_id = start.json()["id"]
        assert (await http.post(f"/v1/executions/{execution_id}/cancel", headers=as_user)).status_code == 200
        published = await events(js, org, "flow.*", lambda found: {"activated", "execution_cancelled"} <= {
            e.type.split(".")[2] for e in found})
        by_type = {}
        for e in published:
            by_type.setdefault(e.type.split(".")[2], []).append(e.data.get("actor"))
        assert by_type["created"] == [actor] and by_type["activated"] == [actor]
        assert by_type["published"] == [actor, {"type": "api_key", "id": ""}]
        assert by_type["draft_replaced"] == [{"type": "api_key", "id": ""}]
        assert by_type["execution_started"] == [actor] and by_type["execution_cancelled"] == [actor]


async def test_an_event_trigger_starts_a_flow_for_the_events_contact(nats_url, database_url):
    org, contact = new_id(), "+4915112345670"
    flow = {"name": "failed sends", "trigger": {"type": "event", "event_type": "switchboard.message.status.v1",
                                                "filter": {"status": "failed"}},
            "nodes": [{"id": "start", "type": "start"},
                      {"id": "note", "type": "message",
                       "message": {"type": "text", "text": "Sorry, message {{flow.data.message_id}} failed."}},
                      {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "note"}, {"from": "note", "to": "end", "exit": "sent"},
                      {"from": "note", "to": "end", "exit": "failed"}]}
    async with running_flows(nats_url, database_url) as (js, http), Sends(js) as sends:
        await active_flow(http, org, flow)
        command = {"message_id": new_id(), "sender_id": SENDER, "to": contact}
        await status(js, org, command, "sent")  # not the filter's
        await status(js, org, command, "failed")
        [note] = await sends.take(1)
        assert note["to"] == contact and note["text"] == f"Sorry, message {command['message_id']} failed."
        await sends.none_within(1.0)
