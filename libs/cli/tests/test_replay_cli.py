"""`switchboard events replay` against a real NATS: exactly one organization's events, in order, as their
exact stored bytes; the types, times and sequence asked for; to a real local webhook receiver, signed."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from typer.testing import CliRunner

from switchboard_cli.main import app
from switchboard_contracts import message as msg
from switchboard_devkit.testing.webhook_receiver import Receiver, Reply

from .helpers import SCRIPT, env, publish, publish_async

runner = CliRunner()
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdefghijklmn").decode()


def replay(nats_url: str, *args: str):
    return runner.invoke(app, ["events", "replay", "--nats-url", nats_url, "-q", *args])


def test_replay_to_a_file_is_the_orgs_events_in_order_exactly(nats_url: str, tmp_path) -> None:
    published = publish(nats_url, 300)
    out = tmp_path / "acme.jsonl"
    result = replay(nats_url, "--org", "acme", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == b"".join(b + b"\n" for _, _, b in published["acme"])
    assert "replayed 300 events in" in result.output and "events/s" in result.output

    statuses = tmp_path / "statuses.jsonl"
    assert replay(nats_url, "--org", "acme", "--type", "message.status", "--out", str(statuses)).exit_code == 0
    assert statuses.read_bytes() == b"".join(b + b"\n" for _, t, b in published["acme"] if t == msg.STATUS)
    both = tmp_path / "both.jsonl"
    assert replay(nats_url, "--org", "beta", "--type", "message.status", "--type", "message.received",
                  "--out", str(both)).exit_code == 0
    assert both.read_bytes() == b"".join(b + b"\n" for _, _, b in published["beta"])

    pivot = published["acme"][200][0]
    tail = tmp_path / "tail.jsonl"
    assert replay(nats_url, "--org", "acme", "--from-seq", str(pivot), "--out", str(tail)).exit_code == 0
    assert tail.read_bytes() == b"".join(b + b"\n" for _, _, b in published["acme"][200:])


def test_since_and_until(nats_url: str, tmp_path) -> None:
    first = publish(nats_url, 50)
    time.sleep(0.05)
    middle = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    second = publish(nats_url, 50, offset=50)
    early, late = tmp_path / "early.jsonl", tmp_path / "late.jsonl"
    assert replay(nats_url, "--org", "acme", "--until", middle, "--out", str(early)).exit_code == 0
    assert replay(nats_url, "--org", "acme", "--since", middle, "--out", str(late)).exit_code == 0
    assert early.read_bytes() == b"".join(b + b"\n" for _, _, b in first["acme"])
    assert late.read_bytes() == b"".join(b + b"\n" for _, _, b in second["acme"])
    recent = tmp_path / "recent.jsonl"
    assert replay(nats_url, "--org", "acme", "--since", "1h", "--out", str(recent)).exit_code == 0
    assert len(recent.read_bytes().splitlines()) == 100


def test_refusals(nats_url: str, tmp_path) -> None:
    out = str(tmp_path / "x.jsonl")
    assert replay(nats_url, "--org", "acme").exit_code == 2  # neither --out nor --to-webhook
    assert replay(nats_url, "--org", "acme", "--since", "1h", "--from-seq", "3", "--out", out).exit_code == 2
    assert replay(nats_url, "--org", "acme", "--since", "yesterday-ish", "--out", out).exit_code == 2
    bad_type = replay(nats_url, "--org", "acme", "--type", "a.b.c", "--out", out)
    assert bad_type.exit_code == 2 and "not an event type" in bad_type.output
    gone = runner.invoke(app, ["events", "replay", "--nats-url", "nats://127.0.0.1:1", "-q", "--org", "a", "--out", out])
    assert gone.exit_code == 2 and "cannot reach NATS at nats://127.0.0.1:1" in gone.output


async def _run(*args: str, **extra_env: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(SCRIPT, *args, env=env(**extra_env), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, output.decode()


async def test_replay_to_a_webhook_posts_each_event_signed_in_order(nats_url: str) -> None:
    published = await publish_async(nats_url, 40)
    async with Receiver() as receiver:
        code, output = await _run("events", "replay", "--org", "beta", "--to-webhook", f"{receiver.url}/hook",
                                  "--secret", SECRET, "-q", SWITCHBOARD_NATS_URL=nats_url)
        assert code == 0, output
        assert "replayed 40 events" in output
        assert [r.body for r in receiver.received] == [b for _, _, b in published["beta"]]
        wh = Webhook(SECRET)
        for r in receiver.received:
            assert r.path == "/hook" and r.method == "POST"
            assert r.headers["webhook-id"] == json.loads(r.body)["id"]
            wh.verify(r.body, {k: r.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")})


async def test_a_webhook_that_keeps_failing_stops_the_replay_non_zero(nats_url: str) -> None:
    published = await publish_async(nats_url, 10)
    refuse_from = published["acme"][4][0]
    seen: list[int] = []

    def respond(r):
        seq = next(s for s, _, b in published["acme"] if b == r.body)
        seen.append(seq)
        return Reply(status=500 if seq == refuse_from else 204)

    async with Receiver(respond) as receiver:
        code, output = await _run("events", "replay", "--org", "acme", "--to-webhook", receiver.url, "-q",
                                  SWITCHBOARD_NATS_URL=nats_url)
    assert code == 1
    assert f"--from-seq {refuse_from}" in output and "HTTP 500" in output
    assert seen == [s for s, _, _ in published["acme"][:4]] + [refuse_from] * 4  # retried, then stopped
    assert not any("webhook-signature" in r.headers for r in receiver.received)  # no --secret: unsigned


@pytest.mark.parametrize("secret", ["nope", "whsec_***"])
def test_a_bad_webhook_secret_is_refused(nats_url: str, secret: str) -> None:
    publish(nats_url, 1)
    result = replay(nats_url, "--org", "acme", "--to-webhook", "http://127.0.0.1:9/x", "--secret", secret)
    assert result.exit_code == 2 and "whsec_" in result.output
