"""Run the gateway in-process against real NATS and PostgreSQL, with a stand-in for the session-pool's
side of the sender contract (it answers register commands with sender.registered/connected events)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import httpx
import nats

from switchboard_contracts import commands, sender
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_conversations.main import serve as serve_conversations
from switchboard_conversations.settings import ConversationsSettings
from switchboard_gateway.main import serve
from switchboard_gateway.orgs import Organizations
from switchboard_gateway.settings import GatewaySettings
from switchboard_runtime.database import async_engine
from switchboard_devkit.testing.patience import REPLY, STARTUP
from switchboard_devkit.testing.ports import server_port
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY


async def publish_event(js, orgid: str, type_: str, data, id_: str) -> None:
    ce = make_envelope(id=id_, source="test", type=type_, orgid=orgid, data=data)
    entity, name = type_.split(".")[1:3]
    await js.publish(f"sb.evt.{orgid}.{entity}.{name}", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})


async def answer_registrations(js, registered: list) -> None:
    sub = await js.pull_subscribe("sb.cmd.*.sender.register", durable="test_registrar",
                                  stream="SWITCHBOARD_COMMANDS")
    while True:
        try:
            msgs = await sub.fetch(10, timeout=0.5)
        except (nats.errors.TimeoutError, TimeoutError):
            continue
        for m in msgs:
            ce = CloudEvent.from_json_bytes(m.data)
            cmd = commands.RegisterSender.model_validate(ce.data)
            now = datetime.now(UTC)
            await publish_event(js, ce.orgid, sender.REGISTERED, sender.SenderRegistered(
                sender_id=cmd.sender_id, name=cmd.name, provider=cmd.provider, quotas=cmd.quotas,
                phone_number="+15550000001", registered_at=now,
                phone_number_id=cmd.config.get("phone_number_id"), waba_id=cmd.config.get("waba_id"),
                session=cmd.config.get("session")), f"{cmd.sender_id}:1")
            registered.append(ce)
            await publish_event(js, ce.orgid, sender.CONNECTED, sender.SenderConnected(
                sender_id=cmd.sender_id, connected_at=now), f"{cmd.sender_id}:2")
            await m.ack()


@contextlib.asynccontextmanager
async def running_gateway(nats_url: str, database_url: str, *, with_conversations: bool = True, **overrides):
    """The gateway with the conversations service it forwards messages and conversations to (or,
    `with_conversations=False`, with that service's port closed)."""
    port, conversations_port = server_port(), server_port()
    settings = GatewaySettings(nats_url=nats_url, database_url=database_url, log_format="console",
                               gateway_port=port, secret_key=TEST_SECRET_KEY,
                               conversations_url=f"http://127.0.0.1:{conversations_port}", **overrides)
    stop = asyncio.Event()
    conversations = asyncio.create_task(serve_conversations(stop, ConversationsSettings(
        nats_url=nats_url, database_url=database_url, log_format="console", secret_key=TEST_SECRET_KEY,
        conversations_port=conversations_port))) if with_conversations else None
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=REPLY) as client:
        task = None  # started once the conversations service is up (alembic's migrations are not thread-safe)
        deadline = asyncio.get_running_loop().time() + STARTUP
        while True:
            try:
                if task is None and (not with_conversations or (
                        await client.get(f"{settings.conversations_url}/openapi.json")).status_code == 200):
                    task = asyncio.create_task(serve(stop, settings))
                if task is not None and (await client.get("/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                for started in (task, conversations):
                    if started is not None and started.done():
                        started.result()
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"the gateway did not answer within {STARTUP} s") from None
                await asyncio.sleep(0.05)
        nc = await nats.connect(nats_url)
        js = nc.jetstream(timeout=REPLY)
        registered: list[CloudEvent] = []  # the register commands seen, for tests to inspect
        registrar = asyncio.create_task(answer_registrations(js, registered))
        client.registered = registered
        engine = async_engine(settings.database(), pool_size=1)
        orgs = Organizations(engine)
        try:
            yield client, js, orgs
        finally:
            registrar.cancel()
            stop.set()
            await asyncio.wait_for(task, 30)
            if conversations is not None:
                await asyncio.wait_for(conversations, 30)
            await engine.dispose()
            await nc.close()
