"""JetStream stopped or frozen during a delivery: 503 (the provider retries), and after it is back the
retry stores every event exactly once."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx

from switchboard_contracts.ids import new_id
from switchboard_devkit.nats_server import NatsServer

from .helpers import add_route, body_of, events, meta_signature, running_ingest
from .payloads import meta_change, meta_delivery, meta_message, meta_status

SECRET = "app-secret-1"


def delivery(prefix: str) -> bytes:
    return body_of(meta_delivery(("waba", [meta_change(
        "111", messages=[meta_message("text", wamid=f"{prefix}-m{i}") for i in range(5)],
        statuses=[meta_status("delivered", wamid=f"{prefix}-o{i}") for i in range(5)])])))


async def post_until(client: httpx.AsyncClient, body: bytes, status: int, attempts: int = 100) -> httpx.Response:
    for _ in range(attempts):
        r = await client.post("/webhooks/meta", content=body, headers=meta_signature(SECRET, body))
        if r.status_code == status:
            return r
        await asyncio.sleep(0.2)
    raise AssertionError(f"never answered {status}; last {r.status_code} {r.text}")


async def test_jetstream_outage_means_503_then_exactly_once(tmp_path):
    server = NatsServer(tmp_path / "nats").start()
    try:
        org, sender_id = new_id(), new_id()
        await add_route(server.url, "meta-cloud", "111", org, sender_id, app_secret=SECRET)
        async with running_ingest(server.url, ingest_publish_timeout_seconds=1.0) as client:
            # frozen (slow): the publishes reach it only after we gave up and answered 503
            frozen = delivery("frozen")
            os.kill(server.process.pid, signal.SIGSTOP)
            try:
                r = await client.post("/webhooks/meta", content=frozen, headers=meta_signature(SECRET, frozen))
                assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
            finally:
                os.kill(server.process.pid, signal.SIGCONT)
            retried = await post_until(client, frozen, 200)
            assert retried.json()["published"] + retried.json()["duplicates"] == 10

            # stopped (unreachable): 503 while it is down, the retry succeeds once it is back
            down = delivery("down")
            server.stop()
            r = await client.post("/webhooks/meta", content=down, headers=meta_signature(SECRET, down))
            assert r.status_code == 503
            server.start()
            await post_until(client, down, 200)
            again = await post_until(client, down, 200)
            assert again.json() == {"published": 0, "duplicates": 10, "quarantined": False}
        published = await events(server.url, org)
        ids = [e.id for e in published]
        assert len(ids) == 20 and len(set(ids)) == 20
    finally:
        server.stop()
