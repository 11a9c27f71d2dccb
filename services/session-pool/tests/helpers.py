"""Shared test helpers for the session-pool: run the service in-process, publish commands, read events."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import nats

from switchboard_contracts import commands
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY
from switchboard_session_pool.main import serve
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.service import running_service
from switchboard_session_pool.settings import SessionPoolSettings


def running_session_pool(nats_url: str, database_url: str, **overrides):
    settings = SessionPoolSettings(nats_url=nats_url, database_url=database_url, log_format="console",
                                   secret_key=TEST_SECRET_KEY, **overrides)
    return running_service(serve, settings, "SWITCHBOARD_COMMANDS", "session_pool__send")


def command(orgid: str, type_: str, data, id_: str | None = None) -> CloudEvent:
    return make_envelope(id=id_ or new_id(), source="test", type=type_, orgid=orgid, data=data)


async def register_simulator(js, orgid: str, sender_id: str, **quotas) -> None:
    cmd = commands.RegisterSender(sender_id=sender_id, name="sim", provider="simulator",
                                  quotas=quotas)
    ce = command(orgid, commands.REGISTER_SENDER, cmd)
    await js.publish(f"sb.cmd.{orgid}.sender.register", ce.to_json_bytes(),
                     headers={"Nats-Msg-Id": ce.id})
    await collect_events(js, f"sb.evt.{orgid}.sender.connected",
                         lambda evs: any(e.subject == sender_id for e in evs))


def send_command(orgid: str, sender_id: str, to: str, text: str = "hello", message_id: str | None = None):
    cmd = commands.SendMessage(message_id=message_id or new_id(), sender_id=sender_id, to=to, text=text,
                               requested_at=datetime.now(UTC))
    return command(orgid, commands.SEND_MESSAGE, cmd, id_=cmd.message_id)


def invalid_send_command(orgid: str, sender_id: str, message_id: str, **extra) -> bytes:
    """A send command that names its message but cannot be processed (no `requested_at`, no text)."""
    data = {"message_id": message_id, "sender_id": sender_id, "to": "+4915112345678", **extra}
    return json.dumps({"specversion": "1.0", "id": message_id, "source": "t",
                       "type": "switchboard.command.message.send.v1", "orgid": orgid, "correlationid": "c",
                       "causationid": "c", "data": data}).encode()


async def publish_command(js, ce: CloudEvent, msg_id: str | None = None) -> None:
    subject = f"sb.cmd.{ce.orgid}." + ".".join(ce.type.split(".")[2:4])
    await js.publish(subject, ce.to_json_bytes(), headers={"Nats-Msg-Id": msg_id or ce.id})


async def collect_events(js, subject: str, predicate, timeout: float = REPLY) -> list[CloudEvent]:
    """Read the events stream (from the start) until predicate(events) holds."""
    sub = await js.subscribe(subject, ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    events: list[CloudEvent] = []
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while not predicate(events):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"timed out; got {[(e.type, e.data.get('status')) for e in events]}")
            try:
                msg = await sub.next_msg(timeout=min(remaining, 1.0))
            except nats.errors.TimeoutError:
                continue
            events.append(CloudEvent.from_json_bytes(msg.data))
    finally:
        await sub.unsubscribe()
    return events


async def stored_msg_ids(js, subject: str) -> list[str]:
    """The Nats-Msg-Id of every message SWITCHBOARD_EVENTS stores on `subject`, in stream order."""
    sub = await js.subscribe(subject, ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    ids: list[str] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=2.0)
            except nats.errors.TimeoutError:
                return ids
            ids.append(msg.headers["Nats-Msg-Id"])
            if msg.metadata.num_pending == 0:
                return ids
    finally:
        await sub.unsubscribe()


async def shrink_duplicate_window(js, seconds: float) -> None:
    """What a long outage does to JetStream's dedupe: ids older than the window are forgotten."""
    info = await js.stream_info("SWITCHBOARD_EVENTS")
    info.config.duplicate_window = seconds
    await js.update_stream(info.config)
