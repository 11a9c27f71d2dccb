"""Running the webhooks service in-process (real NATS and PostgreSQL), publishing events, reading them back."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import httpx
import nats

from switchboard_contracts import message as msg
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY
from switchboard_devkit.testing.ports import server_ports
from switchboard_devkit.testing.service import answering
from switchboard_runtime.http.internal_auth import ORG_HEADER, ROLE_HEADER, TOKEN_HEADER, internal_token
from switchboard_runtime.messaging.declare import ensure_streams
from switchboard_webhooks.main import serve
from switchboard_webhooks.settings import WebhooksSettings

SECRET_KEY = "webhooks-test-secret-key"
FAST = "0,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3"  # the schedule's ten attempts, in seconds


@contextlib.asynccontextmanager
async def running_webhooks(nats_url: str, database_url: str, **overrides):
    """(JetStream, an HTTP client of the service's API) while the service runs."""
    port = server_ports(1)[0]
    options = dict(nats_url=nats_url, database_url=database_url, log_format="console", secret_key=SECRET_KEY,
                   webhooks_port=port, allow_private_urls=True, webhook_retry_schedule=FAST,
                   webhook_poll_seconds=0.3) | overrides
    settings = WebhooksSettings(**options)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings))
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=REPLY)
    await ensure_streams(js, settings)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=REPLY) as http:
            await answering(http, "/v1/webhook-endpoints", task=task)
            yield js, http
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await nc.close()


def as_org(org: str, role: str = "admin") -> dict[str, str]:
    return {ORG_HEADER: org, ROLE_HEADER: role, TOKEN_HEADER: internal_token(SECRET_KEY)}


async def publish_received(js, org: str, count: int, text: str = "hello") -> list[str]:
    """`count` message.received events of the organization, in order; their CloudEvent ids."""
    ids = []
    for i in range(count):
        data = msg.MessageReceived(message_id=new_id(), provider_message_id=new_id(), sender_id=new_id(),
                                   **{"from": "+4915100000001"}, to="+15550000000", timestamp=datetime.now(UTC),
                                   type="text", text=f"{text} {i}")
        ce = make_envelope(id=new_id(), source="test", type=msg.RECEIVED, orgid=org, data=data)
        await js.publish(f"sb.evt.{org}.message.received", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})
        ids.append(ce.id)
    return ids


async def endpoint(http: httpx.AsyncClient, org: str, url: str, **fields) -> dict:
    created = await http.post("/v1/webhook-endpoints", headers=as_org(org), json={"url": url, **fields})
    assert created.status_code == 201, created.text
    return created.json()


async def eventually(check, timeout: float = REPLY, every: float = 0.1):
    """`check()`'s truthy answer, once it gives one (AssertionError after `timeout`)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "not within the time"
        await asyncio.sleep(every)
