"""The examples of docs/subscribing.md, run: the subscriber (under 60 lines of plain nats-py) follows an
organization's events durably — in order, only its own and only the types asked for, and after a restart
only what is new — and the stdlib webhook verifier agrees with the `standardwebhooks` package and with
what the webhooks service signs."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from standardwebhooks.webhooks import Webhook

from switchboard_contracts import message as msg
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_runtime.messaging.declare import ensure_streams
from switchboard_runtime.settings import ServiceSettings
from switchboard_webhooks.domain import signing

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


async def _publish(js, org: str, count: int, type_: str = msg.RECEIVED) -> list[str]:
    ids = []
    for i in range(count):
        if type_ == msg.RECEIVED:
            data = msg.MessageReceived(message_id=new_id(), provider_message_id=new_id(), sender_id="s",
                                       **{"from": "+4915100000001"}, to="+15550000000", timestamp=datetime.now(UTC),
                                       type="text", text=f"hi {i}")
            subject = f"sb.evt.{org}.message.received"
        else:
            data = msg.MessageStatus(message_id=new_id(), sender_id="s", recipient="+4915100000001",
                                     status="sent", timestamp=datetime.now(UTC))
            subject = f"sb.evt.{org}.message.status"
        ce = make_envelope(id=new_id(), source="test", type=type_, orgid=org, data=data)
        await js.publish(subject, ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})
        ids.append(ce.id)
    return ids


async def _lines(proc, count: int, timeout: float = 60.0) -> list[str]:
    # Bounded, and long: a fresh interpreter on a loaded 2-core machine, and a message handed to a pull
    # request of the killed subscriber comes again only after the consumer's ack_wait (30 s).
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        line = await asyncio.wait_for(proc.stdout.readline(), max(deadline - time.monotonic(), 0.1))
        assert line, "the subscriber ended"
        out.append(line.decode().split()[1])
    return out


async def _acked(js, durable: str) -> None:
    for _ in range(200):  # bounded
        info = await js.consumer_info("SWITCHBOARD_EVENTS", durable)
        if info.num_ack_pending == 0 and info.num_pending == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the subscriber did not ack what it handled")


async def _subscriber(env: dict[str, str]):
    return await asyncio.create_subprocess_exec(sys.executable, str(EXAMPLES / "subscriber.py"), env={**os.environ, **env},
                                                stdout=asyncio.subprocess.PIPE)


async def test_the_example_subscriber_follows_an_organization_durably(nats_url):
    assert len((EXAMPLES / "subscriber.py").read_text().splitlines()) < 60
    org, other = new_id(), new_id()
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, ServiceSettings(nats_url=nats_url))
    env = {"NATS_URL": nats_url, "ORG_ID": org, "DURABLE": "example-team", "TYPES": "message.received"}
    proc = None
    try:
        await _publish(js, other, 3)
        first = await _publish(js, org, 5)
        await _publish(js, org, 2, msg.STATUS)  # not a type asked for
        proc = await _subscriber(env)
        assert await _lines(proc, 5) == first
        await _acked(js, "example-team")
        proc.kill()
        await proc.wait()
        later = await _publish(js, org, 3)
        proc = await _subscriber(env)
        assert await _lines(proc, 3) == later  # from where it was: nothing again
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        await nc.close()


def _verifier():
    spec = importlib.util.spec_from_file_location("verify_webhook", EXAMPLES / "verify_webhook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_verifier_agrees_with_the_package_and_the_service():
    example = _verifier()
    secret, rotated = signing.new_secret(), signing.new_secret()
    body = json.dumps({"id": "evt-1", "type": "switchboard.message.received.v1"}).encode()
    now = int(time.time())
    packaged = Webhook(secret).sign("evt-1", datetime.fromtimestamp(now, UTC), body.decode())
    headers = {"Webhook-Id": "evt-1", "Webhook-Timestamp": str(now), "Webhook-Signature": packaged}
    assert example.verify(secret, headers, body)["id"] == "evt-1"  # the package signs, the example verifies
    ours = signing.headers([signing.key_of(rotated), signing.key_of(secret)], "evt-1", now, body)
    for s in (secret, rotated):  # during a rotation, a receiver on either secret
        assert example.verify(s, ours, body)["id"] == "evt-1"
        assert Webhook(s).verify(body, ours)["id"] == "evt-1"
    wrong = "whsec_" + base64.b64encode(b"x" * 24).decode()
    for bad_secret, bad_headers, bad_body, at in [
            (wrong, ours, body, None), (secret, ours, body.replace(b"evt-1", b"evt-2"), None),
            (secret, ours, body, now + 301), (secret, {**ours, "webhook-signature": "v2," + packaged[3:]}, body, None),
            (secret, {k: v for k, v in ours.items() if k != "webhook-id"}, body, None)]:
        with pytest.raises(example.InvalidWebhook):
            example.verify(bad_secret, bad_headers, bad_body, now=at)
