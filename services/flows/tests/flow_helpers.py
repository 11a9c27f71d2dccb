"""Helpers of the flows service's tests: the service in-process on real NATS and PostgreSQL with its
API on a free port, inbound messages and statuses published as webhook-ingest and the session-pool
would, and the send commands it emits read from the commands stream."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import httpx
import nats

from switchboard_contracts import message as msg
from switchboard_contracts.envelope import CloudEvent, command_type, make_envelope
from switchboard_contracts.ids import new_id
from switchboard_contracts.subjects import command_subject
from switchboard_devkit.testing.patience import REPLY
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_ports
from switchboard_devkit.testing.service import answering, running_service
from switchboard_flows.main import serve
from switchboard_flows.settings import FlowsSettings
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, internal_token

SENDS = "sb.cmd.*.message.send"
OUTCOMES = ("sent", "failed", "expired")  # the statuses the session-pool sends to `outcome_to`


@contextlib.asynccontextmanager
async def running_flows(nats_url: str, database_url: str, **overrides):
    """(JetStream, an HTTP client for the API of organization-agnostic calls) while the service runs."""
    port = server_ports(1)[0]
    settings = FlowsSettings(nats_url=nats_url, database_url=database_url, log_format="console",
                             secret_key=TEST_SECRET_KEY, flows_port=port, **overrides)
    async with running_service(serve, settings, "SWITCHBOARD_COMMANDS", "flows__effects") as js:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=REPLY) as http:
            await answering(http, "/v1/flows")
            yield js, http


def as_org(org: str) -> dict[str, str]:
    return {ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)}


async def active_flow(http: httpx.AsyncClient, org: str, definition: dict) -> str:
    created = await http.post("/v1/flows", json=definition, headers=as_org(org))
    assert created.status_code == 201, created.text
    flow_id = created.json()["id"]
    assert (await http.post(f"/v1/flows/{flow_id}/publish", headers=as_org(org))).json() == {"revision": 1}
    assert (await http.post(f"/v1/flows/{flow_id}/activate", headers=as_org(org))).status_code == 200
    return flow_id


async def inbound(js, org: str, sender_id: str, contact: str, text: str | None, *, event_id: str | None = None,
                  msg_id: str | None = None, name: str | None = "Ana", type_: str = "text",
                  content: dict | None = None) -> CloudEvent:
    """A `message.received` as webhook-ingest publishes it (`msg_id`: the Nats-Msg-Id, to store a
    second copy of the same event on purpose)."""
    provider_id = new_id()
    data = msg.MessageReceived(message_id=new_id(), provider_message_id=provider_id, sender_id=sender_id,
                               **{"from": contact}, to="+15550000000", timestamp=datetime.now(UTC), type=type_,
                               text=text, contact_name=name, content=content)
    ce = make_envelope(id=event_id or msg.received_event_id(sender_id, provider_id), source="test",
                       type=msg.RECEIVED, orgid=org, data=data)
    await js.publish(f"sb.evt.{org}.message.received", ce.to_json_bytes(), headers={"Nats-Msg-Id": msg_id or ce.id})
    return ce


async def status(js, org: str, command: dict, status_: str = "sent") -> None:
    """The session-pool's `message.status` for a send command it took, and, for an outcome (`sent`,
    `failed`, `expired`), the same document as the command the send's `outcome_to` names."""
    data = msg.MessageStatus(message_id=command["message_id"], sender_id=command["sender_id"],
                             recipient=command["to"], status=status_, timestamp=datetime.now(UTC),
                             client_ref=command.get("client_ref"))
    ce = make_envelope(id=msg.status_event_id(command["message_id"], status_), source="test", type=msg.STATUS,
                       orgid=org, data=data)
    await js.publish(f"sb.evt.{org}.message.status", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})
    if command.get("outcome_to") and status_ in OUTCOMES:
        entity, name = command["outcome_to"].split(".")
        outcome = ce.model_copy(update={"type": command_type(entity, name)})
        await js.publish(command_subject(org, entity, name), outcome.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})


class Sends:
    """The send commands the service publishes (taken from the work queue, as the session-pool would)."""

    def __init__(self, js):
        self.js, self.sub = js, None

    async def __aenter__(self) -> Sends:
        self.sub = await self.js.pull_subscribe(SENDS, "test_sends", stream="SWITCHBOARD_COMMANDS")
        return self

    async def __aexit__(self, *exc) -> None:
        await self.sub.unsubscribe()

    async def take(self, n: int, timeout: float = REPLY) -> list[dict]:
        out: list[dict] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < n:
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"only {len(out)} of {n} send commands: {out}"
            with contextlib.suppress(nats.errors.TimeoutError):
                for m in await self.sub.fetch(n - len(out), timeout=min(remaining, 1.0)):
                    out.append(CloudEvent.from_json_bytes(m.data).data)
                    await m.ack()
        return out

    async def none_within(self, seconds: float) -> None:
        with contextlib.suppress(nats.errors.TimeoutError):
            extra = await self.sub.fetch(1, timeout=seconds)
            raise AssertionError(f"unexpected send command: {extra[0].data!r}")


async def events(js, org: str, type_suffix: str, predicate, timeout: float = REPLY) -> list[CloudEvent]:
    """The organization's public events whose subject ends with `type_suffix`, read from the start
    until predicate(events) holds."""
    sub = await js.subscribe(f"sb.evt.{org}.{type_suffix}", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    found: list[CloudEvent] = []
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while not predicate(found):
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"timed out; got {[(e.type, e.data) for e in found]}"
            with contextlib.suppress(nats.errors.TimeoutError):
                found.append(CloudEvent.from_json_bytes((await sub.next_msg(timeout=min(remaining, 1.0))).data))
    finally:
        await sub.unsubscribe()
    return found
