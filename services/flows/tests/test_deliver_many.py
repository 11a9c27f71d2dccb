"""Many executions' inputs delivered as one batch (`Engine.deliver_many`, as fired timers and statuses
are) by a second replica, on real NATS and PostgreSQL: an execution the service changed since the
replica cached it is read afresh, and one a third replica changes between the batch's read and its
save (a conflict) sends the batch down the one-at-a-time path. Each execution ends as its own
history says, and only the one still waiting sends its next message — once."""

from __future__ import annotations

from datetime import UTC, datetime

import nats

from switchboard_contracts.ids import new_id
from switchboard_flows.application import FlowsApp
from switchboard_flows.blocklist import Blocklist
from switchboard_flows.domain.definition import parse_definition
from switchboard_flows.domain.executor import apply
from switchboard_flows.domain.inputs import Cancel, TimerFired
from switchboard_flows.engine import Engine, Revisions
from switchboard_flows.execution_index import ExecutionIndex
from switchboard_flows.flow_store import FlowStore
from switchboard_flows.performer import Performer
from switchboard_flows.tables import SCHEMA
from switchboard_flows.template_sends import TemplateSends
from switchboard_flows.timers import Timers
from switchboard_runtime.database import async_engine
from switchboard_runtime.eventstore import call, postgres_application
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.settings import DatabaseUrl

from .flow_helpers import Sends, active_flow, as_org, running_flows

SENDER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
FLOW = {"name": "later", "trigger": {"type": "api"},
        "nodes": [{"id": "start", "type": "start"}, {"id": "pause", "type": "delay", "seconds": 3600},
                  {"id": "note", "type": "message", "message": {"type": "text", "text": "An hour later"}},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "note"},
                  {"from": "note", "to": "end", "exit": "sent"}, {"from": "note", "to": "end", "exit": "failed"}]}
DELAY_STEP = 2  # start is step 1


def phone(i: int) -> str:
    return f"+49151555000{i}1"


def replica_app(database_url: str) -> FlowsApp:
    return postgres_application(FlowsApp, DatabaseUrl.parse(database_url), SCHEMA, AGGREGATE_CACHE_MAXSIZE="100")


async def test_a_batch_reads_changed_executions_afresh_and_a_conflict_takes_the_one_at_a_time_path(
        nats_url, database_url):
    org = new_id()
    async with running_flows(nats_url, database_url) as (js, http), Sends(js) as sends:
        flow_id = await active_flow(http, org, FLOW)
        ids = []
        for i in range(3):
            r = await http.post(f"/v1/flows/{flow_id}/executions", json={"to": phone(i), "sender_id": SENDER},
                                headers=as_org(org))
            assert r.status_code == 201 and r.json()["waiting"]["for"] == "delay", r.text
            ids.append(r.json()["id"])
        db = async_engine(DatabaseUrl.parse(database_url), pool_size=2)
        app, third = replica_app(database_url), replica_app(database_url)
        store = FlowStore(db)
        nc = await nats.connect(nats_url)
        engine = Engine(app, ExecutionIndex(db), Revisions(store),
                        Performer(Publisher(nc, nc.jetstream()), Timers(nc.jetstream()), Blocklist(db),
                                  TemplateSends(db)))
        assert set(await call(app.executions, ids)) == set(ids)  # this replica has cached all three
        assert (await http.post(f"/v1/executions/{ids[0]}/cancel", headers=as_org(org))).status_code == 200

        definition = parse_definition(FLOW)
        read = app.executions
        raced = []

        def read_then_race(execution_ids):
            found = read(execution_ids)
            if not raced:  # the third replica cancels ids[1] after this batch read it
                ex = third.execution(ids[1])
                apply(ex, definition, Cancel("cancelled by another replica"), datetime.now(UTC))
                third.save(ex)
                raced.append(ids[1])
            return found

        app.executions = read_then_race
        await engine.deliver_many([(execution_id, TimerFired(input_id=f"timer:{execution_id}:{DELAY_STEP}",
                                                             step=DELAY_STEP), False) for execution_id in ids])
        assert raced == [ids[1]]
        [note] = await sends.take(1)
        assert note["to"] == phone(2) and note["text"] == "An hour later"
        await sends.none_within(1.0)
        fresh = replica_app(database_url)
        states = [(ex.status, ex.reason) for ex in (fresh.execution(execution_id) for execution_id in ids)]
        assert states == [("cancelled", "cancelled through the API"), ("cancelled", "cancelled by another replica"),
                          ("waiting", None)]
        assert fresh.execution(ids[2]).node == "note"
        rows = {r["id"]: r for r in (await http.get(f"/v1/flows/{flow_id}/executions",
                                                              headers=as_org(org))).json()["items"]}
        assert rows[ids[2]]["waiting_for"] == "message" and rows[ids[1]]["status"] == "cancelled"
        await nc.close()
        await db.dispose()
