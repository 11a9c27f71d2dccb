"""Run webhook-ingest in-process against real NATS; register routes as the session-pool does; sign
deliveries as Meta and WAHA do; read back what reached the events stream."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json

import httpx
import nats
import nats.js.errors

from switchboard_contracts import streams
from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.sender import SenderRoute, route_key
from switchboard_devkit.testing.patience import REPLY
from switchboard_devkit.testing.ports import server_port
from switchboard_devkit.testing.service import answering
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.sealing import Sealer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_webhook_ingest.main import serve
from switchboard_webhook_ingest.settings import IngestSettings


def body_of(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def meta_signature(app_secret: str, body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def waha_signature(key: str, body: bytes) -> dict[str, str]:
    return {"X-Webhook-Hmac": hmac.new(key.encode(), body, hashlib.sha512).hexdigest(),
            "X-Webhook-Hmac-Algorithm": "sha512", "Content-Type": "application/json"}


async def add_route(nats_url: str, provider: str, account: str, org_id: str, sender_id: str,
                    waba_id: str | None = None, **secrets: str) -> None:
    """What the session-pool writes when it registers a provider sender."""
    nc = await nats.connect(nats_url)
    kv = await ensure_key_value(nc.jetstream(), streams.SENDER_ROUTES)
    sealed = Sealer(TEST_SECRET_KEY).seal(secrets) if secrets else None
    route = SenderRoute(org_id=org_id, sender_id=sender_id, provider=provider, sealed=sealed, waba_id=waba_id)
    await kv.put(route_key(provider, account), route.model_dump_json().encode())
    await nc.close()


@contextlib.asynccontextmanager
async def running_ingest(nats_url: str, **overrides):
    port = server_port()
    settings = IngestSettings(nats_url=nats_url, log_format="console", ingest_port=port,
                              secret_key=TEST_SECRET_KEY, **overrides)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=REPLY) as client:
        await answering(client, "/healthz", task=task)
        try:
            yield client
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def stream_messages(nats_url: str, subject: str, stream: str = "SWITCHBOARD_EVENTS",
                          settle: float = 0.3) -> list:
    """Every message stored on `subject` so far (read with an ordered consumer until quiet)."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    sub = await js.subscribe(subject, ordered_consumer=True, stream=stream)
    out = []
    try:
        while True:
            try:
                out.append(await sub.next_msg(timeout=settle))
            except nats.errors.TimeoutError:
                break
    finally:
        await sub.unsubscribe()
        await nc.close()
    return out


async def _count(js, stream: str, subject: str) -> int:
    try:
        info = await js.stream_info(stream, subjects_filter=subject)
    except nats.js.errors.NotFoundError:
        return 0
    return sum((info.state.subjects or {}).values())


async def events(nats_url: str, org_id: str) -> list[CloudEvent]:
    """The organization's events on SWITCHBOARD_EVENTS, once every fact stored in SWITCHBOARD_INGEST
    has been copied in (the stream sources them asynchronously, within milliseconds)."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for _ in range(100):
        stored = await _count(js, "SWITCHBOARD_INGEST", f"sb.ingest.{org_id}.>")
        if await _count(js, "SWITCHBOARD_EVENTS", f"sb.evt.{org_id}.>") >= stored:
            break
        await asyncio.sleep(0.05)
    await nc.close()
    return [CloudEvent.from_json_bytes(m.data) for m in await stream_messages(nats_url, f"sb.evt.{org_id}.>")]
