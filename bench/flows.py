"""Flows benchmark, on a freshly started embedded NATS and PostgreSQL, the flows service a process of
its own (as `make run` starts it, `python -m switchboard_flows.main`):

(a) baseline: a bare consume-then-publish round trip on the same NATS — a pull consumer of the same
    kind the services use takes each 1 kB message from a JetStream stream and publishes one on
    another stream (awaiting the PubAck, then acking), with no logic between; RATE messages/s for
    SECONDS, timed from the publish to the republished message on a core subscription;
(b) auto-reply latency: `message.received` events published as webhook-ingest publishes them (each
    from a new contact) at RATE/s for SECONDS, an auto-reply rule with `delay_ms: 0`; timed from the
    publish to its send command on `sb.cmd.<org>.message.send` (a core subscription);
(c) EXECUTIONS executions of `start → delay until T → end` started through the API, all waiting at
    once: the service's RSS while they wait, and, when they all fall due in the same second T, how
    long after T the last one resumed (its `ended_at`).

Every number is measured in this run; the ratio (b)/(a) of p99 latencies is reported.
`BENCH_FLOWS_RATE` (200), `BENCH_FLOWS_SECONDS` (60), `BENCH_FLOWS_EXECUTIONS` (10000),
`BENCH_FLOWS_DUE_AFTER` (seconds from the first start to T; default 40 + 12 ms per execution),
`BENCH_FLOWS_PROFILE` (a file: py-spy samples the service for 10 s while the executions resume, and
at the start of (b) into the file + `.replies`).
Results in bench/results/flows.json."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
import psycopg

from switchboard_contracts import message as msg
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_contracts.streams import ConsumerSpec, StreamSpec
from switchboard_devkit.nats_server import NatsServer
from switchboard_devkit.postgres_server import PostgresServer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_ports
from switchboard_devkit.testing.processes import ready, start, stop
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, internal_token
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.consumer import BatchConsumer
from switchboard_runtime.messaging.declare import ensure_stream

from .campaign import process_rss
from .report import print_table, write_result

RATE = int(os.environ.get("BENCH_FLOWS_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_FLOWS_SECONDS", "60"))
EXECUTIONS = int(os.environ.get("BENCH_FLOWS_EXECUTIONS", "10000"))
DUE_AFTER = float(os.environ.get("BENCH_FLOWS_DUE_AFTER", str(40 + 0.012 * EXECUTIONS)))
STARTS_AT_ONCE = 32
PROFILE = os.environ.get("BENCH_FLOWS_PROFILE")  # a file: py-spy records the resumption there
DRAIN = 10.0  # seconds to wait for the last answers after the load stops
OUR_NUMBER = "+15550000000"
AUTO_REPLY = {"message": {"type": "text", "text": "Hi {{contact.name|there}}, we got your message."},
              "delay_ms": 0}
REMINDER = {"name": "bench reminder", "trigger": {"type": "api"},
            "nodes": [{"id": "start", "type": "start"}, {"id": "pause", "type": "delay", "until": "{{flow.data.at}}"},
                      {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "end"}]}
ENDED = ("SELECT count(*), extract(epoch FROM max(ended_at)), "
         "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at)) "
         "FROM flows.executions WHERE flow_id = %s AND status = 'completed'")
WAITING = "SELECT count(*) FROM flows.executions WHERE flow_id = %s AND waiting_for = 'delay'"


def profile(pid: int | None, out: str | None) -> subprocess.Popen | None:
    """py-spy sampling the flows service for 10 s from now, into `out` (collapsed stacks), if asked."""
    if not out or pid is None or shutil.which("py-spy") is None:
        return None
    return subprocess.Popen(["py-spy", "record", "-p", str(pid), "-d", "10", "-r", "200", "-f", "raw", "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) the process has used so far."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    ordered = sorted(latencies)
    if not ordered:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    return {"p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
            "p99_ms": round(ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2)}


async def paced(publish, rate: int, seconds: float) -> int:
    """Call `publish(i)` (a coroutine, not awaited in line) `rate` times a second for `seconds`, on
    an absolute schedule (a late tick catches up, it never drifts); the number published."""
    loop = asyncio.get_running_loop()
    total, began, tasks = int(rate * seconds), loop.time(), set()
    for i in range(total):
        due = began + i / rate
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(publish(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)
    return total


async def round_trips(nats_url: str, sample: bytes) -> dict:
    """(a): the same pull consumer the services use, handing each message straight on."""
    nc = await nats.connect(nats_url)
    js = BusJetStream(nc)
    for name, subject in (("BENCH_RT_IN", "bench.rt.in.>"), ("BENCH_RT_OUT", "bench.rt.out.>")):
        await ensure_stream(js, StreamSpec(name=name, subjects=[subject]))

    async def hand_on(deliveries):
        await asyncio.gather(*(js.publish("bench.rt.out." + d.subject.rsplit(".", 1)[1], d.data)
                               for d in deliveries))

    consumer = BatchConsumer(js, ConsumerSpec(stream="BENCH_RT_IN", durable="bench_rt",
                                              filter_subjects=["bench.rt.in.>"], ack_wait_seconds=10.0),
                             hand_on, batch_size=256)
    await consumer.start()
    sent_at: dict[str, float] = {}
    latencies: list[float] = []

    async def arrived(m) -> None:
        started = sent_at.pop(m.subject.rsplit(".", 1)[1], None)
        if started is not None:
            latencies.append(time.perf_counter() - started)

    sub = await nc.subscribe("bench.rt.out.>", cb=arrived)

    async def publish(i: int) -> None:
        sent_at[str(i)] = time.perf_counter()
        await js.publish(f"bench.rt.in.{i}", sample)

    published = await paced(publish, RATE, SECONDS)
    await wait_for(lambda: not sent_at, DRAIN)
    await sub.unsubscribe()
    await consumer.stop()
    await nc.close()
    return {"published": published, "answered": len(latencies), **percentiles(latencies)}


async def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def received(org: str, sender: str, i: int) -> tuple[str, bytes, str]:
    """A `message.received` from a new contact, as webhook-ingest publishes it: (contact, body, id)."""
    contact = f"+49152{i:07d}1"
    provider_id = f"wamid.bench.{org}.{i}"
    data = msg.MessageReceived(message_id=new_id(), provider_message_id=provider_id, sender_id=sender,
                               **{"from": contact}, to=OUR_NUMBER, timestamp=datetime.now(UTC), type="text",
                               text=f"Hello, where is my order {i}?", contact_name=f"Customer {i}")
    ce = make_envelope(id=msg.received_event_id(sender, provider_id), source="bench", type=msg.RECEIVED,
                       orgid=org, data=data)
    return contact, ce.to_json_bytes(), ce.id


async def auto_replies(js, nc, http: httpx.AsyncClient, org: str) -> dict:
    """(b)."""
    headers = {ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)}
    r = await http.post("/v1/auto-replies", json=AUTO_REPLY, headers=headers)
    assert r.status_code == 201, r.text
    sender = new_id()
    sent_at: dict[str, float] = {}
    latencies: list[float] = []

    async def command(m) -> None:
        to = json.loads(m.data)["data"]["to"]
        started = sent_at.pop(to, None)
        if started is not None:
            latencies.append(time.perf_counter() - started)

    sub = await nc.subscribe(f"sb.cmd.{org}.message.send", cb=command)
    # the first message of an organization reads its rules and notes its number: not timed
    contact, body, event_id = received(org, sender, 10_000_000)
    await js.publish(f"sb.evt.{org}.message.received", body, headers={"Nats-Msg-Id": event_id})
    await asyncio.sleep(3)

    async def publish(i: int) -> None:
        contact, body, event_id = received(org, sender, i)
        sent_at[contact] = time.perf_counter()
        await js.publish(f"sb.evt.{org}.message.received", body, headers={"Nats-Msg-Id": event_id})

    profiler = profile(process_rss("switchboard_flows.main")[2], PROFILE and PROFILE + ".replies")
    published = await paced(publish, RATE, SECONDS)
    await wait_for(lambda: not sent_at, DRAIN)
    await sub.unsubscribe()
    if profiler is not None:
        profiler.wait(timeout=60)
    return {"published": published, "answered": len(latencies), **percentiles(latencies)}


async def waiting_executions(http: httpx.AsyncClient, db_url: str, org: str) -> dict:
    """(c)."""
    headers = {ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)}
    flow_id = (await http.post("/v1/flows", json=REMINDER, headers=headers)).json()["id"]
    assert (await http.post(f"/v1/flows/{flow_id}/publish", headers=headers)).status_code == 200
    assert (await http.post(f"/v1/flows/{flow_id}/activate", headers=headers)).status_code == 200
    due = datetime.fromtimestamp(int(time.time() + DUE_AFTER) + 1, UTC)
    body = {"sender_id": new_id(), "parameters": {"at": due.isoformat().replace("+00:00", "Z")}}
    slots = asyncio.Semaphore(STARTS_AT_ONCE)
    began = time.perf_counter()

    async def one(i: int) -> None:
        async with slots:
            r = await http.post(f"/v1/flows/{flow_id}/executions", json={**body, "to": f"+49157{i:07d}1"},
                                headers=headers)
            assert r.status_code == 201, r.text

    await asyncio.gather(*(one(i) for i in range(EXECUTIONS)))
    start_seconds = time.perf_counter() - began
    with psycopg.connect(db_url, autocommit=True) as conn:
        waiting = conn.execute(WAITING, (flow_id,)).fetchone()[0]
        left = (due - datetime.now(UTC)).total_seconds()
        if waiting != EXECUTIONS or left < 2:
            raise SystemExit(f"{waiting} of {EXECUTIONS} waiting {left:.1f} s before they fall due: "
                             "raise BENCH_FLOWS_DUE_AFTER")
        await asyncio.sleep(max(left - 1.5, 0))
        rss_waiting, _, pid = process_rss("switchboard_flows.main")
        profiler = profile(pid, PROFILE)
        cpu_before, wall_before = process_cpu(pid), time.time()
        deadline = time.monotonic() + 120
        while True:
            done, last, median = conn.execute(ENDED, (flow_id,)).fetchone()
            if done >= EXECUTIONS or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    cpu_share = (process_cpu(pid) - cpu_before) / (time.time() - wall_before)
    _, peak, _ = process_rss("switchboard_flows.main")
    if profiler is not None:
        profiler.wait(timeout=60)
    return {"executions": EXECUTIONS, "start_seconds": round(start_seconds, 1),
            "starts_per_second": round(EXECUTIONS / start_seconds, 1), "completed": done,
            "due_at": due.isoformat(), "rss_waiting_mb": round(rss_waiting, 1), "peak_rss_mb": round(peak, 1),
            "last_resumed_after_due_s": round(float(last) - due.timestamp(), 2) if last else None,
            "median_resumed_after_due_s": round(float(median) - due.timestamp(), 2) if median else None,
            "flows_cpu_while_resuming": round(cpu_share, 2)}


async def flows_phases(nats_url: str, db_url: str) -> tuple[dict, dict]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    results = []
    for phase in ("auto-replies", "executions"):  # a fresh service for each: its RSS is the phase's
        port = server_ports(1)[0]
        proc = start("switchboard_flows.main", nats_url, db_url, SWITCHBOARD_FLOWS_PORT=str(port))
        try:
            await ready(js, proc, "flows")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                         limits=httpx.Limits(max_connections=STARTS_AT_ONCE)) as http:
                if phase == "auto-replies":
                    results.append(await auto_replies(js, nc, http, new_id()))
                else:
                    results.append(await waiting_executions(http, db_url, new_id()))
        finally:
            await stop(proc)
    await nc.close()
    return results[0], results[1]


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="switchboard-bench-flows-"))
    os.chmod(root, 0o755)
    nats_server = NatsServer(root / "nats").start()
    postgres = PostgresServer(root / "pg", durable=True).start()
    try:
        sample = received(new_id(), new_id(), 0)[1]
        base = await round_trips(nats_server.url, sample)
        replies, executions = await flows_phases(nats_server.url, postgres.url)
    finally:
        postgres.stop()
        nats_server.stop()
        shutil.rmtree(root, ignore_errors=True)
    ratio_of = replies["p99_ms"] or 0.0
    params = {"rate_per_second": RATE, "seconds": SECONDS, "cpus": os.cpu_count(), "baseline": base,
              "auto_reply": replies, "waiting": executions,
              "p50_ratio": round(replies["p50_ms"] / base["p50_ms"], 2) if base["p50_ms"] else None}
    result = write_result("flows", ratio_of, "ms p99, inbound → auto-reply command", base["p99_ms"] or 0.0, params)
    print_table([
        (f"baseline: consume → publish round trip at {RATE}/s", f"p50 {base['p50_ms']} ms, p99 {base['p99_ms']} ms "
                                                                f"({base['answered']}/{base['published']})"),
        (f"flows: inbound → auto-reply command at {RATE}/s", f"p50 {replies['p50_ms']} ms, p99 {replies['p99_ms']} ms "
                                                             f"({replies['answered']}/{replies['published']})"),
        ("ratio flows / baseline (p99; p50)", f"{result['ratio']}; {params['p50_ratio']}"),
        ("target", "p99 ≤ 50 ms"),
        (f"{EXECUTIONS:,} executions started through the API", f"{executions['start_seconds']} s "
                                                                 f"({executions['starts_per_second']}/s)"),
        ("flows service RSS while they all wait", f"{executions['rss_waiting_mb']} MB (peak "
                                                  f"{executions['peak_rss_mb']} MB; target ≤ 300 MB)"),
        ("all due in one second: last resumed after", f"{executions['last_resumed_after_due_s']} s "
                                                      f"(median {executions['median_resumed_after_due_s']} s; "
                                                      "target ≤ 5 s)"),
        ("  flows service CPU, 1.5 s before T → the last", f"{executions['flows_cpu_while_resuming']} cores"),
        ("written", "bench/results/flows.json"),
    ])


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
