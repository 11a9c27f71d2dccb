"""Events for the CLI's tests: CloudEvents of two organizations published to a real JetStream, and the
CLI run in this process (`invoke`: most calls) or as the `switchboard` console script (a subprocess,
once in each test file: it costs a second of start-up each time)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from typing import NamedTuple
from datetime import UTC, datetime
from pathlib import Path

import nats

from switchboard_contracts import message as msg
from switchboard_contracts.envelope import make_envelope
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.declare import ensure_streams
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.settings import ServiceSettings

from typer.testing import CliRunner

from switchboard_cli.main import app

SCRIPT = str(Path(sys.executable).parent / "switchboard")
RUNNER = CliRunner()
ORGS = ("acme", "beta")


def event(org: str, i: int):
    if i % 3:
        data = msg.MessageReceived(message_id=f"m{i}", provider_message_id=f"p{i}", sender_id="s",
                                   **{"from": "+4915100000001"}, to="+15550000000",
                                   timestamp=datetime(2026, 5, 1, tzinfo=UTC), type="text", text=f"hi {i} ✓")
        return make_envelope(id=f"{org}-r{i}", source="test", type=msg.RECEIVED, orgid=org, data=data)
    data = msg.MessageStatus(message_id=f"m{i}", sender_id="s", recipient="+4915100000001", status="delivered",
                             timestamp=datetime(2026, 5, 1, tzinfo=UTC))
    return make_envelope(id=f"{org}-s{i}", source="test", type=msg.STATUS, orgid=org, data=data)


async def publish_async(nats_url: str, n: int, offset: int = 0) -> dict[str, list[tuple[int, str, bytes]]]:
    """n events per organization, interleaved; per org: (stream sequence, type, exact bytes)."""
    nc = await nats.connect(nats_url)
    try:
        js = BusJetStream(nc)
        await ensure_streams(js, ServiceSettings(nats_url=nats_url))
        evs = [event(org, offset + i) for i in range(n) for org in ORGS]
        seqs = await Publisher(nc, js).publish_many_sequenced(evs)
    finally:
        await nc.close()
    out: dict[str, list] = {org: [] for org in ORGS}
    for seq, ce in zip(seqs, evs, strict=True):
        out[ce.orgid].append((seq, ce.type, ce.to_json_bytes()))
    return out


def publish(nats_url: str, n: int, offset: int = 0) -> dict[str, list[tuple[int, str, bytes]]]:
    return asyncio.run(publish_async(nats_url, n, offset))


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    return {**base, "COLUMNS": "200", **extra}


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def invoke(*args: str, cwd: Path | None = None, **extra: str) -> Ran:
    """`switchboard events ARGS` in this process, with only the SWITCHBOARD_* variables given (from `cwd`).
    Not from within a running event loop (the CLI runs its own): an async test calls it in a thread."""
    variables = {k: None for k in os.environ if k.startswith("SWITCHBOARD_")} | {"COLUMNS": "200"} | extra
    with contextlib.chdir(cwd) if cwd else contextlib.nullcontext():
        result = RUNNER.invoke(app, ["events", *args], env=variables)
    return Ran(result.exit_code, result.stdout, result.stderr)
