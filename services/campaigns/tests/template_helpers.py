"""The campaigns service in-process, called as the gateway calls it, with the events the other services
would publish (senders from the session-pool, templates from the conversations service and webhook-ingest)
and the session-pool's part of a send played by the test: it takes the campaign's commands off the
command stream and reports each one `sent`."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import httpx
import nats.errors
import nats.js.errors

from switchboard_campaigns.main import serve
from switchboard_campaigns.settings import CampaignsSettings
from switchboard_contracts import message, sender, streams, template
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_port
from switchboard_devkit.testing.service import answering, running_service
from switchboard_runtime.http.internal_auth import TOKEN_HEADER, Caller, internal_token

WABA = "102290129340398"
T0 = datetime(2026, 11, 30, 9, tzinfo=UTC)


def as_(org: str, actor_id: str = "key-1") -> dict:
    """The headers the gateway sends for this caller (an admin)."""
    kind = "api_key" if actor_id.startswith("key") else "user"
    return {TOKEN_HEADER: internal_token(TEST_SECRET_KEY), **Caller(org, kind, actor_id, "admin").headers()}


@contextlib.asynccontextmanager
async def running_campaigns(nats_url: str, database_url: str):
    port = server_port()
    settings = CampaignsSettings(nats_url=nats_url, database_url=database_url, log_format="console",
                                 campaigns_port=port, secret_key=TEST_SECRET_KEY, campaign_tick_seconds=0.05)
    async with running_service(serve, settings, streams.EVENTS.name, streams.CAMPAIGNS_TEMPLATES.durable) as js:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=REPLY) as http:
            await answering(http, "/openapi.json")
            yield http, js


async def publish(js, org: str, data, type_: str, event_id: str | None = None) -> int:
    """An event as its service publishes it (`sb.evt.<org>.<entity>.<event>`); the stream sequence."""
    ce = make_envelope(id=event_id or new_id(), source="test", type=type_, orgid=org, data=data)
    entity_event = ".".join(type_.split(".")[1:3])
    ack = await js.publish(f"sb.evt.{org}.{entity_event}", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})
    return ack.seq


async def caught_up(js, durable: str, seq: int, timeout: float = 15.0) -> None:
    """Until the consumer has handled (acked) everything up to the stream sequence `seq`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        info = await js.consumer_info(streams.EVENTS.name, durable)
        if info.ack_floor.stream_seq >= seq and not info.num_ack_pending:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{durable} stuck before {seq}: {info}"
        await asyncio.sleep(0.05)


async def add_sender(js, org: str, sender_id: str, provider: str = "meta-cloud", waba_id: str | None = WABA,
                     labels: tuple[str, ...] = ()) -> None:
    """As the session-pool announces a sender: registered (20 a minute: the campaign keeps 20 queued)
    and connected; until the campaigns service's directory knows it."""
    await publish(js, org, sender.SenderRegistered(
        sender_id=sender_id, name="s", provider=provider, waba_id=waba_id if provider == "meta-cloud" else None,
        phone_number_id="1093" if provider == "meta-cloud" else None, quotas={"per_minute": 20},
        labels=list(labels), registered_at=T0), sender.REGISTERED)
    seq = await publish(js, org, sender.SenderConnected(sender_id=sender_id, connected_at=T0), sender.CONNECTED)
    await caught_up(js, streams.CAMPAIGNS_SENDERS.durable, seq)


class Templates:
    """One organization's templates as the conversations service (its aggregate's events, its sync) and
    webhook-ingest (Meta's reports) publish them; each call returns once campaigns__templates handled it."""

    def __init__(self, js, org: str, waba_id: str = WABA):
        self.js, self.org, self.waba_id = js, org, waba_id
        self.ids: dict[tuple[str, str], str] = {}
        self.clock = 0

    def _at(self) -> datetime:
        self.clock += 1
        return datetime.fromtimestamp(T0.timestamp() + self.clock, UTC)

    async def _done(self, seq: int) -> None:
        await caught_up(self.js, streams.CAMPAIGNS_TEMPLATES.durable, seq)

    async def created(self, name: str, language: str = "en_US", status: str = "DRAFT",
                      components: list[dict] | None = None, parameter_format: str = "POSITIONAL") -> str:
        tid = self.ids.setdefault((name, language), new_id())
        await self.defined(template.CREATED, name, language, status, components, parameter_format, version=1)
        return tid

    async def edited(self, name: str, components: list[dict], language: str = "en_US", status: str = "PENDING",
                     parameter_format: str = "POSITIONAL", at: datetime | None = None) -> None:
        """An edit of a submitted template: Meta reviews it again (PENDING)."""
        await self.defined(template.EDITED, name, language, status, components, parameter_format, version=3, at=at)

    async def defined(self, type_: str, name: str, language: str, status: str, components: list[dict] | None,
                      parameter_format: str, version: int, at: datetime | None = None) -> None:
        await self._done(await publish(self.js, self.org, template.TemplateDefined(
            template_id=self.ids.setdefault((name, language), new_id()), version=version, at=at or self._at(),
            actor={"type": "api_key", "id": "key-1"}, waba_id=self.waba_id, name=name, language=language,
            sender_id="s", category="MARKETING", parameter_format=parameter_format, status=status,
            components=components or [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Ana"]]}}]),
            type_))

    async def submitted(self, name: str, language: str = "en_US") -> None:
        await self._done(await publish(self.js, self.org, template.TemplateSubmitted(
            template_id=self.ids[(name, language)], version=2, at=self._at(), actor={"type": "api_key", "id": "key-1"},
            waba_id=self.waba_id, name=name, language=language, meta_template_id=f"meta-{name}", status="PENDING",
            category="MARKETING"), template.SUBMITTED))

    async def meta_reports(self, name: str, status: str, language: str = "en_US", origin: str = "webhook",
                           at: datetime | None = None) -> None:
        """Meta's `template.status_changed`: from its webhook (no template id) or found by a sync (with ours)."""
        await self._done(await publish(self.js, self.org, template.TemplateStatusChanged(
            waba_id=self.waba_id, message_template_id=f"meta-{name}", message_template_name=name,
            message_template_language=language, event=status, origin=origin, at=at or self._at(),
            template_id=self.ids.get((name, language)) if origin == "sync" else None), template.STATUS_CHANGED))

    async def approved(self, name: str, language: str = "en_US", components: list[dict] | None = None,
                       parameter_format: str = "POSITIONAL") -> None:
        await self.created(name, language, components=components, parameter_format=parameter_format)
        await self.submitted(name, language)
        await self.meta_reports(name, "APPROVED", language)


class FakePool:
    """The session-pool's side of the organization's sends: takes the send commands off the work queue
    and reports each one `sent`, as the session-pool would."""

    def __init__(self, js, org: str):
        self.js, self.org, self.sub, self.taken = js, org, None, 0
        self.commands: list[dict] = []  # every command taken, as its `data`

    async def start(self) -> FakePool:
        self.sub = await self.js.pull_subscribe(f"sb.cmd.{self.org}.message.send", durable=f"test_pool_{self.org[:8]}",
                                                stream=streams.COMMANDS.name)
        return self

    async def take(self, wait: float = 0.5) -> int:
        """Send (report `sent`) every command waiting now; how many there were."""
        n = 0
        while True:
            try:
                msgs = await self.sub.fetch(100, timeout=wait)
            except (nats.errors.TimeoutError, TimeoutError):
                self.taken += n
                return n
            for m in msgs:
                cmd = CloudEvent.from_json_bytes(m.data).data
                self.commands.append(cmd)
                status = message.MessageStatus(message_id=cmd["message_id"], provider_message_id=f"wamid.{n}",
                                               sender_id=cmd.get("sender_id") or "pool", recipient=cmd["to"],
                                               status="sent", timestamp=datetime.now(UTC),
                                               client_ref=cmd["client_ref"])
                await publish(self.js, self.org, status, message.STATUS,
                              message.status_event_id(cmd["message_id"], "sent"))
                await m.ack()
                n += 1


async def events(js, subject: str) -> list[dict]:
    """Every event stored on `subject` (wildcards allowed), in order, as JSON."""
    out, seq = [], 1
    while True:
        try:
            msg = await js.get_msg(streams.EVENTS.name, seq=seq, subject=subject, next=True)
        except nats.js.errors.NotFoundError:
            return out
        out.append(CloudEvent.from_json_bytes(msg.data).model_dump(mode="json"))
        seq = msg.seq + 1


async def eventually(fn, predicate, timeout: float = 15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fn()
        if predicate(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {value}"
        await asyncio.sleep(0.05)


async def hold_of(js, campaign_id: str) -> bytes | None:
    """What the campaign holds KV tells the session-pool about the campaign."""
    kv = await js.key_value(streams.CAMPAIGN_HOLDS.bucket)
    try:
        return (await kv.get(campaign_id)).value
    except nats.js.errors.KeyNotFoundError:
        return None


class Api:
    """The campaigns API of one organization, as the gateway forwards it."""

    def __init__(self, http: httpx.AsyncClient, org: str):
        self.http, self.org = http, org

    async def campaign(self, name: str, senders: dict, template_name: str = "promo", language: str = "en_US",
                       contacts: int = 50, **extra) -> str:
        body = {"name": name, **senders, "template": {"name": template_name, "language": language, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "{{name|there}}"}]}]}, **extra}
        r = await self.http.post("/v1/campaigns", json=body, headers=as_(self.org))
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        added = await self.http.post(f"/v1/campaigns/{cid}/contacts", headers=as_(self.org), json={"contacts": [
            {"phone": f"+49151{i:07d}3", "name": f"Ana{i}"} for i in range(contacts)]})
        assert added.status_code == 200 and added.json()["accepted"] == contacts, added.text
        return cid

    async def act(self, cid: str, what: str, actor_id: str = "key-1") -> httpx.Response:
        return await self.http.post(f"/v1/campaigns/{cid}/{what}", headers=as_(self.org, actor_id))

    async def get(self, cid: str) -> dict:
        r = await self.http.get(f"/v1/campaigns/{cid}", headers=as_(self.org))
        assert r.status_code == 200, r.text
        return r.json()
