"""The retired `flows__statuses` consumer where a deployment still has it (real NATS, PostgreSQL): an
execution that began waiting at a message node under the version before (its send asked for no
outcome command) still takes its exit from the `message.status` alone; once no such execution waits,
the consumer is deleted. A new deployment never creates it."""

from __future__ import annotations

import asyncio

import nats
from nats.js.errors import NotFoundError

from switchboard_contracts import streams
from switchboard_contracts.ids import new_id
from switchboard_runtime.messaging.consumer import consumer_config
from switchboard_runtime.messaging.declare import ensure_stream

from .flow_helpers import Sends, active_flow, as_org, inbound, running_flows, status
from .test_executor import EXAMPLE
from .test_flows_service import SENDER

LEGACY = streams.FLOWS_STATUSES


async def _exists(js, spec) -> bool:
    try:
        await js.consumer_info(spec.stream, spec.durable)
    except NotFoundError:
        return False
    return True


async def _waiting_for(http, org: str, flow_id: str) -> str | None:
    listed = (await http.get(f"/v1/flows/{flow_id}/executions", headers=as_org(org))).json()["items"]
    return listed[0]["waiting_for"]


async def test_a_new_deployment_has_no_statuses_consumer(nats_url, database_url):
    async with running_flows(nats_url, database_url) as (js, _):
        assert await _exists(js, streams.FLOWS_OUTCOMES)
        assert not await _exists(js, LEGACY)


async def test_the_retired_consumer_serves_a_send_from_before_then_is_deleted(nats_url, database_url):
    org, contact = new_id(), "+4915112345678"
    nc = await nats.connect(nats_url)
    try:  # a deployment of the version before: it has flows__statuses
        await ensure_stream(nc.jetstream(), streams.EVENTS)
        await nc.jetstream().add_consumer(LEGACY.stream, consumer_config(LEGACY))
    finally:
        await nc.close()
    async with running_flows(nats_url, database_url) as (js, http), Sends(js) as sends:
        flow_id = await active_flow(http, org, EXAMPLE)
        await inbound(js, org, SENDER, contact, "what is my order STATUS?")
        [ask] = await sends.take(1)
        assert await _waiting_for(http, org, flow_id) == "message"
    async with running_flows(nats_url, database_url) as (js, _):
        # as if the execution had begun waiting before flows__outcomes existed (the version before)
        await js.delete_consumer(streams.FLOWS_OUTCOMES.stream, streams.FLOWS_OUTCOMES.durable)
    async with running_flows(nats_url, database_url, flows_legacy_statuses_check_seconds=0.1,
                             flows_legacy_statuses_grace_seconds=0) as (js, http):
        await asyncio.sleep(1.0)  # ten checks: an execution still waits on a message sent before
        assert await _exists(js, LEGACY)
        await status(js, org, {**ask, "outcome_to": None}, "sent")  # the session-pool before: the status only
        for _ in range(100):  # bounded: the status reaches the execution, then the consumer goes
            if await _waiting_for(http, org, flow_id) == "reply" and not await _exists(js, LEGACY):
                break
            await asyncio.sleep(0.1)
        assert await _waiting_for(http, org, flow_id) == "reply"
        assert not await _exists(js, LEGACY)
