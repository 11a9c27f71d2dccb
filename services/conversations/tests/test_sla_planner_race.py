"""A policy change while the SLA planner computes a plan from the policies as they were: the stale plan is
not written, the conversation stays marked, and the next plan takes the policy as it is now (the real
PostgreSQL; the service's own poller is kept out of the way by a long poll interval)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.ids import new_id
from switchboard_conversations.lifecycle import Lifecycle
from switchboard_conversations.sla_planner import SlaPlanner
from switchboard_conversations.sla_policies import SlaPolicies
from switchboard_runtime.database import async_engine
from switchboard_runtime.settings import DatabaseUrl

from .inbox_helpers import as_, eventually, inbound, running_inbox

CONTACT = "+4915112345670"


class ChangedWhileRead(SlaPolicies):
    """The policies as they were when read; right after the read, an operator changes one."""

    def __init__(self, engine, change):
        super().__init__(engine)
        self.change, self.reads = change, 0

    async def of_orgs(self, org_ids):
        policies = await super().of_orgs(org_ids)
        self.reads += 1
        if self.reads == 1:
            await self.change()
        return policies


async def test_a_policy_changed_during_a_plan_is_the_one_planned(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_inbox(nats_url, database_url, inbox_due_poll_seconds=3600) as (client, js):
        h = as_(org)
        policy = (await client.post("/v1/sla-policies", headers=h, json={
            "name": "old", "first_response_seconds": 3600})).json()
        await inbound(js, org, sender, CONTACT, "hello", datetime.now(UTC), new_id())
        cid = conversation_id(org, sender, CONTACT)
        await eventually(lambda: client.get(f"/v1/conversations/{cid}", headers=h), lambda r: r.status_code == 200)
        engine = async_engine(DatabaseUrl.parse(database_url), pool_size=2)
        try:
            async def change() -> None:
                await policies.replace(org, policy["id"], {"name": "new", "first_response_seconds": 60})

            policies = ChangedWhileRead(engine, change)
            planner = SlaPlanner(engine, Lifecycle(engine, None, None), policies)
            await planner.plan()  # planned with "old", read before the change: not written
            async with engine.connect() as conn:
                row = (await conn.execute(text("SELECT sla_dirty, sla_policy_id, sla_first_response_due "
                                               "FROM conversations.conversations WHERE id = :id"), {"id": cid})).first()
            assert row.sla_dirty, "a plan from the policies before the change was written over it"
            await planner.plan()  # the next pass: the policy as it is now
            sla = (await client.get(f"/v1/conversations/{cid}", headers=h)).json()["sla"]
            assert sla["policy"]["name"] == "new", sla
            due = datetime.fromisoformat(sla["first_response_due"])
            assert (due - datetime.now(UTC)).total_seconds() < 120  # 60 s, not the old hour
        finally:
            await engine.dispose()
