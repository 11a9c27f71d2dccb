"""Replay benchmark (`make bench-replay`), on a freshly started embedded NATS: EVENTS CloudEvents
(`message.received`, ~600 bytes, each with its Nats-Msg-Id) of two organizations, 3 of 4 the target's,
in SWITCHBOARD_EVENTS; then, ROUNDS times, alternating:

(a) baseline: a bare nats-py ordered consumer (`js.subscribe(filter, ordered_consumer=True, cb=…)`) of
    the target organization's subjects, doing nothing with the messages: events/s until the last one;
(b) `switchboard events replay --org … --out FILE` as the CLI runs it (`replay_to_file`: the runtime's
    history reader, each event's exact bytes a line, batched writes), without the progress bar: events/s;
(c) `org_history` one event at a time, doing nothing (what the webhooks service's export iterates);
(d) `audit_export` (hash chain and signed manifest) into a file.

Medians are reported; the result is (b), its ratio to (a). Then the console script itself once, with its
progress bar, and its own summary line. `BENCH_REPLAY_EVENTS` (200000), `BENCH_REPLAY_ROUNDS` (3).
Results in bench/results/replay.json."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nats

from switchboard_cli.replay import Range, replay_to_file
from switchboard_contracts import message as msg
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.nats_server import NatsServer
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.declare import ensure_streams
from switchboard_runtime.messaging.history import audit_export, org_history
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.settings import ServiceSettings

from .report import print_table, write_result

EVENTS = int(os.environ.get("BENCH_REPLAY_EVENTS", "200000"))
ROUNDS = int(os.environ.get("BENCH_REPLAY_ROUNDS", "3"))
ORG, OTHER = "org_bench", "org_other"
GOAL = 50_000


def event(org: str, i: int):
    data = msg.MessageReceived(message_id=new_id(), provider_message_id=f"wamid.{new_id()}", sender_id=new_id(),
                               **{"from": "+4915100000001"}, to="+15550000000", timestamp=datetime.now(UTC),
                               type="text", text=f"hello, this is message {i} of the replay benchmark")
    return make_envelope(id=new_id(), source="switchboard/bench", type=msg.RECEIVED, orgid=org, data=data)


async def fill(js: BusJetStream) -> int:
    pub = Publisher(js.connection, js)
    mine, chunk = 0, []
    for i in range(EVENTS):
        org = OTHER if i % 4 == 0 else ORG
        mine += org == ORG
        chunk.append(event(org, i))
        if len(chunk) == 1000:
            await pub.publish_many(chunk)
            chunk = []
    if chunk:
        await pub.publish_many(chunk)
    return mine


async def bare_ordered(js: BusJetStream, expected: int) -> float:
    done = asyncio.Event()
    seen = 0

    async def cb(m) -> None:
        nonlocal seen
        seen += 1
        if seen == expected:
            done.set()

    started = time.perf_counter()
    sub = await js.subscribe(f"sb.evt.{ORG}.>", cb=cb, ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    await asyncio.wait_for(done.wait(), 600)
    seconds = time.perf_counter() - started
    await sub.unsubscribe()
    return expected / seconds


async def to_file(js: BusJetStream, path: Path, expected: int) -> float:
    counter, _ = await replay_to_file(js, ORG, Range(), path, show_progress=False)
    assert counter.count == expected, (counter.count, expected)
    return counter.rate


async def per_event(js: BusJetStream, expected: int) -> float:
    started, n = time.perf_counter(), 0
    async for _ in org_history(js, ORG):
        n += 1
    assert n == expected
    return n / (time.perf_counter() - started)


async def audit_file(js: BusJetStream, path: Path, expected: int) -> float:
    started, lines = time.perf_counter(), 0
    with open(path, "wb") as f:
        async for chunk in audit_export(js, ORG, None, None, "bench-secret-key"):
            f.write(chunk)
            lines += chunk.count(b"\n")
    assert lines == expected + 2
    return expected / (time.perf_counter() - started)


async def measure(url: str, root: Path) -> dict:
    nc = await nats.connect(url)
    js = BusJetStream(nc)
    await ensure_streams(js, ServiceSettings(nats_url=url))
    started = time.perf_counter()
    expected = await fill(js)
    fill_seconds = time.perf_counter() - started
    runs: dict[str, list[float]] = {"baseline": [], "file": [], "per_event": [], "audit": []}
    for _ in range(ROUNDS):
        runs["baseline"].append(await bare_ordered(js, expected))
        runs["file"].append(await to_file(js, root / "replay.jsonl", expected))
        runs["per_event"].append(await per_event(js, expected))
        runs["audit"].append(await audit_file(js, root / "audit.jsonl", expected))
    size = (root / "replay.jsonl").stat().st_size
    await nc.close()
    return {"expected": expected, "fill_seconds": round(fill_seconds, 2), "file_bytes": size,
            "runs": {k: [round(v) for v in vs] for k, vs in runs.items()},
            **{k: statistics.median(vs) for k, vs in runs.items()}}


def console_script(url: str, root: Path) -> str:
    script = Path(sys.executable).parent / "switchboard"
    env = {**os.environ, "SWITCHBOARD_NATS_URL": url}
    done = subprocess.run([str(script), "events", "replay", "--org", ORG, "--out", str(root / "cli.jsonl")],
                          env=env, capture_output=True, text=True, timeout=600)
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 else f"failed: {done.stderr[-300:]}"


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="switchboard-bench-replay-"))
    server = NatsServer(root / "nats").start()
    try:
        got = await measure(server.url, root)
        cli_line = console_script(server.url, root)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    params = {"events_in_stream": EVENTS, "events_replayed": got["expected"], "rounds": ROUNDS,
              "cpus": os.cpu_count(), "runs": got["runs"], "file_bytes": got["file_bytes"],
              "org_history_per_event": round(got["per_event"]), "audit_export": round(got["audit"]),
              "console_script": cli_line, "goal": GOAL}
    result = write_result("replay", got["file"], "events/s, replay to a file", got["baseline"], params)
    print_table([
        (f"stream: {EVENTS:,} events, {got['expected']:,} of the organization", f"filled in {got['fill_seconds']} s"),
        ("baseline: bare nats-py ordered consumer, doing nothing", f"{got['baseline']:,.0f} events/s"),
        ("replay --out FILE (exact bytes, one a line)", f"{got['file']:,.0f} events/s "
                                                        f"({got['file_bytes'] / 1e6:,.1f} MB)"),
        ("ratio replay / baseline", f"{result['ratio']}"),
        ("org_history, one event at a time", f"{got['per_event']:,.0f} events/s"),
        ("audit_export (hash chain, signed) to a file", f"{got['audit']:,.0f} events/s"),
        ("the console script, with its progress bar", cli_line),
        ("goal", f"≥ {GOAL:,} events/s to a file"),
    ])


if __name__ == "__main__":
    asyncio.run(main())
