"""The conversations service in-process with an HTTP client that calls it as the gateway does (the
internal token, the organization, the acting user and role), and publishers of the events it follows."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import httpx

from switchboard_contracts import message, sender, template, user
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import deterministic_id
from switchboard_conversations.main import serve
from switchboard_conversations.settings import ConversationsSettings
from switchboard_devkit.testing.patience import REPLY
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_port
from switchboard_devkit.testing.service import answering, running_service
from switchboard_runtime.http.internal_auth import TOKEN_HEADER, Caller, internal_token


async def publish(js, org: str, data, type_: str) -> int:
    """The event as its service would publish it; its stream sequence."""
    ce = make_envelope(id=deterministic_id(type_, data.model_dump_json()), source="test", type=type_,
                       orgid=org, data=data)
    entity_event = ".".join(type_.split(".")[1:3])
    return (await js.publish(f"sb.evt.{org}.{entity_event}", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})).seq


async def add_user(js, org: str, user_id: str, name: str, role: str = "agent") -> None:
    await publish(js, org, user.UserChanged(user_id=user_id, email=f"{user_id}@example.com", name=name, role=role,
                                            at=datetime.now(UTC), actor={"type": "api_key", "id": "k"}),
                  user.USER_CREATED)


async def add_team(js, org: str, team_id: str, name: str) -> None:
    await publish(js, org, user.TeamChanged(team_id=team_id, name=name, at=datetime.now(UTC),
                                            actor={"type": "api_key", "id": "k"}), user.TEAM_CREATED)


async def add_sender(js, org: str, sender_id: str, provider: str, waba_id: str | None = None) -> None:
    await publish(js, org, sender.SenderRegistered(sender_id=sender_id, name="s", provider=provider, waba_id=waba_id,
                                                   quotas={}, registered_at=datetime.now(UTC)), sender.REGISTERED)


async def meta_reports(js, org: str, waba_id: str, meta_template_id: str, name: str, language: str,
                       event: str, reason: str | None = None) -> None:
    """A `template.status_changed` as webhook-ingest publishes it from Meta's webhook."""
    await publish(js, org, template.TemplateStatusChanged(
        waba_id=waba_id, message_template_id=meta_template_id, message_template_name=name,
        message_template_language=language, event=event, reason=reason, at=datetime.now(UTC)),
        template.STATUS_CHANGED)


async def inbound(js, org: str, sender_id: str, contact: str, text: str, at: datetime, mid: str,
                  name: str | None = "Ann") -> None:
    await publish(js, org, message.MessageReceived(
        message_id=mid, provider_message_id=f"wamid.{mid}", sender_id=sender_id, **{"from": contact},
        to="+15550000001", timestamp=at, type="text", text=text, contact_name=name), message.RECEIVED)


def as_(org: str, actor_id: str = "key-1", role: str = "admin", actor_type: str | None = None) -> dict:
    """The headers the gateway sends for this caller."""
    kind = actor_type or ("api_key" if actor_id.startswith("key") else "user")
    return {TOKEN_HEADER: internal_token(TEST_SECRET_KEY), **Caller(org, kind, actor_id, role).headers()}


@contextlib.asynccontextmanager
async def running_inbox(nats_url: str, database_url: str, **overrides):
    port = server_port()
    settings = ConversationsSettings(nats_url=nats_url, database_url=database_url, log_format="console",
                                     conversations_port=port, secret_key=TEST_SECRET_KEY, **overrides)
    async with running_service(serve, settings, "SWITCHBOARD_EVENTS", "conversations__directory") as js:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=REPLY) as client:
            await answering(client, "/openapi.json")
            yield client, js


async def eventually(fn, predicate, timeout=REPLY):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fn()
        if predicate(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {value}"
        await asyncio.sleep(0.05)
