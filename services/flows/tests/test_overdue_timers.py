"""A timer whose schedule never made it into the stream (removed here, as a publish that failed after
an API start would leave it): the overdue sweep sets it again, and the execution goes on — once."""

from __future__ import annotations

import asyncio

from switchboard_contracts.ids import new_id

from .flow_helpers import Sends, active_flow, as_org, running_flows

SENDER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
FLOW = {"name": "soon", "trigger": {"type": "api"},
        "nodes": [{"id": "start", "type": "start"}, {"id": "pause", "type": "delay", "seconds": 2},
                  {"id": "note", "type": "message", "message": {"type": "text", "text": "Two seconds later"}},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "note"},
                  {"from": "note", "to": "end", "exit": "sent"}, {"from": "note", "to": "end", "exit": "failed"}]}


async def test_an_execution_whose_timer_was_lost_is_woken_by_the_sweep(nats_url, database_url):
    org = new_id()
    async with running_flows(nats_url, database_url, flows_overdue_sweep_seconds=0.5,
                             flows_overdue_grace_seconds=1.0) as (js, http), Sends(js) as sends:
        flow_id = await active_flow(http, org, FLOW)
        r = await http.post(f"/v1/flows/{flow_id}/executions", json={"to": "+4915155500011", "sender_id": SENDER},
                            headers=as_org(org))
        assert r.status_code == 201 and r.json()["waiting"]["for"] == "delay", r.text
        execution_id = r.json()["id"]
        await js.purge_stream("SWITCHBOARD_TIMERS", subject=f"sb.sched.flows.{org}.{execution_id}")
        loop = asyncio.get_running_loop()
        started = loop.time()
        [note] = await sends.take(1, timeout=15)
        assert note["text"] == "Two seconds later" and loop.time() - started >= 2.0  # due at 2 s, past 1 s grace
        await sends.none_within(1.5)
        view = (await http.get(f"/v1/executions/{execution_id}", headers=as_org(org))).json()
        assert view["node"] == "note" and view["waiting"]["for"] == "message"
