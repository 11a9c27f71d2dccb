"""The webhooks service SIGKILLed mid-fan-out loses nothing: started again, every endpoint gets every
event (in order of first arrival; an event whose success was not yet recorded may come twice, with the
same `webhook-id`). The service runs as a process of its own on the test's NATS and PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
import nats

from switchboard_contracts.ids import new_id
from switchboard_devkit.testing import processes
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_ports
from switchboard_devkit.testing.webhook_receiver import Receiver
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, internal_token
from switchboard_runtime.messaging.declare import ensure_streams
from switchboard_runtime.settings import ServiceSettings

from .helpers import publish_received

ENDPOINTS, EVENTS = 3, 600


def _start(nats_url: str, database_url: str, port: int):
    return processes.start("switchboard_webhooks.main", nats_url, database_url, SWITCHBOARD_WEBHOOKS_PORT=str(port),
                           SWITCHBOARD_ALLOW_PRIVATE_URLS="true", SWITCHBOARD_WEBHOOK_POLL_SECONDS="0.3",
                           SWITCHBOARD_WEBHOOK_LEASE_SECONDS="2")


async def test_sigkill_mid_fan_out_loses_nothing(nats_url, database_url):
    org = new_id()
    port = server_ports(1)[0]
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, ServiceSettings(nats_url=nats_url))
    receivers = [await Receiver().start() for _ in range(ENDPOINTS)]
    proc = _start(nats_url, database_url, port)
    try:
        await processes.ready(js, proc, "webhooks")
        headers = {ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15) as http:
            for receiver in receivers:
                r = await http.post("/v1/webhook-endpoints", headers=headers,
                                    json={"url": receiver.url, "event_types": ["message.received"]})
                assert r.status_code == 201, r.text
        ids = await publish_received(js, org, EVENTS)
        for _ in range(600):  # bounded: kill once a third has arrived
            if sum(len(r.received) for r in receivers) >= ENDPOINTS * EVENTS // 3:
                break
            await asyncio.sleep(0.02)
        processes.sigkill(proc)
        before = [len(r.received) for r in receivers]
        assert 0 < sum(before) < ENDPOINTS * EVENTS, before  # killed mid-fan-out
        proc = _start(nats_url, database_url, port)
        await processes.ready(js, proc, "webhooks")
        for receiver in receivers:
            await receiver.wait_for(EVENTS, timeout=120)
            for _ in range(600):
                if {r.headers["webhook-id"] for r in receiver.received} == set(ids):
                    break
                await asyncio.sleep(0.1)
            first_arrivals = list(dict.fromkeys(r.headers["webhook-id"] for r in receiver.received))
            assert first_arrivals == ids  # everything, in stream order
    finally:
        await processes.stop(proc)
        for receiver in receivers:
            await receiver.stop()
        await nc.close()
