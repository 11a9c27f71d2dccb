"""Outbound webhooks benchmark, on a freshly started embedded NATS and PostgreSQL, the webhooks service a
process of its own (as `make run` starts it, `python -m switchboard_webhooks.main`), and a local
receiver, a process of its own (`bench/webhook_receiver.py`: the devkit's HTTP receiver on ENDPOINTS
ports, each answering 204):

(a) baseline: a bare httpx POST loop to the same receiver — ENDPOINTS loops at once, one per port (one
    `httpx.AsyncClient` each), each POSTing a CloudEvent's JSON, one request after the other, BASELINE
    requests in all: requests/s; then the same loops paced at RATE requests/s in all for SECONDS: p99
    latency of a POST;
(b) fan-out: EVENTS `message.received` events published to SWITCHBOARD_EVENTS (pipelined), to ENDPOINTS
    endpoints of the organization, each delivered signed to its own port: deliveries/s, from the first
    publish to the last delivery; the service's CPU seconds per delivery;
(c) latency: RATE events/s for SECONDS, publish → delivery p99 at the receiver (from each event's time);
    then the same with one more endpoint whose receiver answers after 10 s: the other endpoints' p99
    again (the issue's bound: it may grow by at most 50 ms).

Every number is measured in this run; reported: (b) ÷ (a) deliveries/s (goal ≥ 0.5), the p99s of (c)
and their difference. `BENCH_WEBHOOKS_EVENTS` (10000; the issue names 50000, about 15 minutes on 2 cores), `BENCH_WEBHOOKS_ENDPOINTS` (20),
`BENCH_WEBHOOKS_BASELINE` (40000 requests), `BENCH_WEBHOOKS_RATE` (50 events/s, each to every endpoint),
`BENCH_WEBHOOKS_SECONDS` (20). Results in bench/results/webhooks.json."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats

from switchboard_contracts import message as msg
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.nats_server import NatsServer
from switchboard_devkit.postgres_server import PostgresServer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_ports
from switchboard_devkit.testing.processes import ready, start, stop
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, internal_token
from switchboard_runtime.messaging.declare import ensure_streams
from switchboard_runtime.settings import ServiceSettings

from .flows import paced, percentiles, process_cpu
from .report import print_table, write_result

EVENTS = int(os.environ.get("BENCH_WEBHOOKS_EVENTS", "10000"))  # the figure: 50000 (~15 min here)
ENDPOINTS = int(os.environ.get("BENCH_WEBHOOKS_ENDPOINTS", "20"))
BASELINE = int(os.environ.get("BENCH_WEBHOOKS_BASELINE", "40000"))
RATE = int(os.environ.get("BENCH_WEBHOOKS_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_WEBHOOKS_SECONDS", "20"))
CHUNK = 500  # publishes in flight at once
DRAIN_CAP = 1800.0  # a fan-out gives up after this long


def event(org: str, i: int) -> tuple[str, bytes, str]:
    data = msg.MessageReceived(message_id=new_id(), provider_message_id=new_id(), sender_id="s",
                               **{"from": "+4915100000001"}, to="+15550000000", timestamp=datetime.now(UTC),
                               type="text", text=f"hello {i}")
    ce = make_envelope(id=new_id(), source="bench", type=msg.RECEIVED, orgid=org, data=data, time=datetime.now(UTC))
    return f"sb.evt.{org}.message.received", ce.to_json_bytes(), ce.id


class Stats:
    def __init__(self, port: int):
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)

    async def get(self) -> dict:
        return (await self.http.get("/stats")).json()

    async def reset(self) -> None:
        await self.http.get("/reset")


async def baseline(ports: list[int], sample: bytes) -> tuple[float, dict]:
    per = BASELINE // len(ports)

    async def loop(port: int, count: int, gap: float | None, latencies: list[float]) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15) as client:
            began = time.perf_counter()
            for i in range(count):
                if gap is not None and (wait := began + i * gap - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                t = time.perf_counter()
                r = await client.post("/", content=sample, headers={"content-type": "application/json"})
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 204

    began = time.perf_counter()
    await asyncio.gather(*(loop(p, per, None, []) for p in ports))
    burst = per * len(ports) / (time.perf_counter() - began)
    latencies: list[float] = []
    per_port_rate = RATE  # each event goes to every endpoint: RATE requests/s per port
    await asyncio.gather(*(loop(p, int(RATE * SECONDS), 1.0 / per_port_rate, latencies) for p in ports))
    return burst, percentiles(latencies)


async def until_delivered(stats: Stats, ports: list[int], expected: int, began: float) -> float:
    """Seconds from `began` until every port received `expected` distinct events (polling the receiver)."""
    last_progress, seen = time.monotonic(), -1
    while True:
        s = await stats.get()
        counts = [s[str(p)]["distinct"] for p in ports]
        if all(c >= expected for c in counts):
            return time.monotonic() - began
        if sum(counts) != seen:
            seen, last_progress = sum(counts), time.monotonic()
        assert time.monotonic() - last_progress < 60 and time.monotonic() - began < DRAIN_CAP, counts
        await asyncio.sleep(0.05)


async def fan_out(nats_url: str, db_url: str, ports: list[int], slow_port: int, stats: Stats) -> dict:
    api_port = server_ports(1)[0]
    proc = start("switchboard_webhooks.main", nats_url, db_url, SWITCHBOARD_WEBHOOKS_PORT=str(api_port),
                 SWITCHBOARD_ALLOW_PRIVATE_URLS="true", SWITCHBOARD_WEBHOOK_POLL_SECONDS="1")
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    org = new_id()
    headers = {ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)}
    try:
        await ready(js, proc, "webhooks")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", headers=headers, timeout=30) as api:
            for port in ports:
                r = await api.post("/v1/webhook-endpoints", json={"url": f"http://127.0.0.1:{port}/",
                                                                  "event_types": ["message.received"]})
                assert r.status_code == 201, r.text
            await asyncio.sleep(2.5)  # every lane started (the dispatcher looks every second)
            await stats.reset()
            cpu0 = process_cpu(proc.pid)
            began = time.monotonic()
            for start_at in range(0, EVENTS, CHUNK):
                await asyncio.gather(*(js.publish(s, b, headers={"Nats-Msg-Id": i}) for s, b, i in
                                       (event(org, n) for n in range(start_at, min(start_at + CHUNK, EVENTS)))))
            seconds = await until_delivered(stats, ports, EVENTS, began)
            cpu = process_cpu(proc.pid) - cpu0
            burst = {"deliveries": EVENTS * len(ports), "seconds": round(seconds, 2),
                     "per_second": round(EVENTS * len(ports) / seconds, 1),
                     "cpu_ms_per_delivery": round(cpu * 1000 / (EVENTS * len(ports)), 3)}

            async def paced_run() -> dict:
                await stats.reset()

                async def publish(i: int) -> None:
                    s, b, mid = event(org, i)
                    await js.publish(s, b, headers={"Nats-Msg-Id": mid})

                sent = await paced(publish, RATE, SECONDS)
                began = time.monotonic()
                await until_delivered(stats, ports, sent, began)
                s = await stats.get()
                return percentiles([x for p in ports for x in s[str(p)]["latencies"]])

            steady = await paced_run()
            r = await api.post("/v1/webhook-endpoints", json={"url": f"http://127.0.0.1:{slow_port}/",
                                                              "event_types": ["message.received"]})
            assert r.status_code == 201, r.text
            await asyncio.sleep(2.5)
            with_slow = await paced_run()
            return {"burst": burst, "steady": steady, "with_slow": with_slow}
    finally:
        await stop(proc)
        await nc.close()


def ratio(a, b):
    return round(a / b, 3) if a and b else None


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="sb-bench-webhooks-"))
    nats_server = NatsServer(root / "nats").start()
    postgres = PostgresServer(root / "pg", durable=True).start()
    *ports, slow_port, stats_port = server_ports(ENDPOINTS + 2)
    receiver = subprocess.Popen([sys.executable, "-m", "bench.webhook_receiver", str(stats_port),
                                 *map(str, ports), f"{slow_port}:slow"], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout.readline().strip() == "ready"
        nc = await nats.connect(nats_server.url)
        await ensure_streams(nc.jetstream(), ServiceSettings(nats_url=nats_server.url))
        await nc.close()
        stats = Stats(stats_port)
        base_rate, base_latency = await baseline(ports, event(new_id(), 0)[1])
        fan = await fan_out(nats_server.url, postgres.url, ports, slow_port, stats)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
        postgres.stop()
        nats_server.stop()
        shutil.rmtree(root, ignore_errors=True)
    rate = fan["burst"]["per_second"]
    delta = (fan["with_slow"]["p99_ms"] or 0) - (fan["steady"]["p99_ms"] or 0)
    params = {"events": EVENTS, "endpoints": ENDPOINTS, "baseline_requests": BASELINE, "rate": RATE,
              "seconds": SECONDS, "baseline_per_second": round(base_rate, 1), "baseline_latency": base_latency,
              **fan, "p99_growth_with_a_slow_endpoint_ms": round(delta, 2)}
    write_result("webhooks", rate, "deliveries/s, publish → signed delivery", base_rate, params)

    def lat(r: dict) -> str:
        return f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms"

    print_table([
        ("(a) bare httpx POST loops", f"{base_rate:,.0f} requests/s ({BASELINE:,} requests, {ENDPOINTS} loops)"),
        ("(a) paced POST latency", lat(base_latency)),
        ("(b) fan-out", f"{rate:,.0f} deliveries/s ({EVENTS:,} events × {ENDPOINTS} endpoints in "
                        f"{fan['burst']['seconds']} s), CPU {fan['burst']['cpu_ms_per_delivery']} ms/delivery"),
        ("(b)/(a)", f"{ratio(rate, base_rate)} (goal ≥ 0.5)"),
        ("(c) publish → delivery", lat(fan["steady"]) + f" ({RATE}/s × {ENDPOINTS} endpoints)"),
        ("(c) with a 10 s endpoint", lat(fan["with_slow"]) + f" (others' p99 {delta:+.1f} ms; bound +50 ms)"),
    ])


if __name__ == "__main__":
    asyncio.run(main())
