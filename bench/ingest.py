"""Webhook-ingest benchmark (`make bench-ingest`).

In one run, on a freshly started embedded NATS: (a) baseline — a bare FastAPI endpoint on the same
server settings that parses the JSON and publishes one message to JetStream with ack; (b) webhook-ingest
— signed Meta deliveries (one inbound message or two statuses each, distinct ids). Both are loaded from
a separate process on loopback for a fixed time with the same keep-alive connections. Afterwards every
accepted delivery's events must be in the stream exactly once (checked). Reports deliveries/s, the ratio
to the bare endpoint's requests/s, and p99 latency.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats

from switchboard_contracts import message, streams
from switchboard_contracts.ids import new_id
from switchboard_contracts.sender import SenderRoute, route_key
from switchboard_devkit.nats_server import NatsServer
from switchboard_devkit.ports import free_port, wait_for_port
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.sealing import Sealer

from .report import print_table, write_result

DURATION = float(os.environ.get("BENCH_INGEST_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_INGEST_CONNECTIONS", "32"))
WARMUP = 1.0
PNID, APP_SECRET, SECRET_KEY = "106540352242922", "bench-app-secret", "bench-secret-key"


async def register_route(nats_url: str, org: str, sender_id: str) -> None:
    nc = await nats.connect(nats_url)
    kv = await ensure_key_value(nc.jetstream(), streams.SENDER_ROUTES)
    sealed = Sealer(SECRET_KEY).seal({"app_secret": APP_SECRET, "verify_token": "bench"})
    await kv.put(route_key("meta-cloud", PNID), SenderRoute(org_id=org, sender_id=sender_id, provider="meta-cloud",
                                                            sealed=sealed).model_dump_json().encode())
    await nc.close()


def load(url: str, path: str, seconds: float, prefix: str, out: Path) -> dict:
    subprocess.run([sys.executable, "-m", "bench.loadgen", url, path, str(seconds), str(CONNECTIONS), PNID,
                    APP_SECRET, prefix, str(out)], check=True)
    return json.loads(out.read_text())


async def _count(js, stream: str, subject: str) -> int:
    info = await js.stream_info(stream, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


async def stored_event_ids(nats_url: str, org: str) -> list[str]:
    """Every event id on SWITCHBOARD_EVENTS for the organization, once the stream has copied in all
    that webhook-ingest stored (bounded wait)."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for _ in range(600):
        stored = await _count(js, "SWITCHBOARD_INGEST", f"sb.ingest.{org}.>")
        expected = await _count(js, "SWITCHBOARD_EVENTS", f"sb.evt.{org}.>")
        if expected >= stored:
            break
        await asyncio.sleep(0.1)
    sub = await js.subscribe(f"sb.evt.{org}.>", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    ids = []
    while len(ids) < expected:
        msg = await sub.next_msg(timeout=10)
        ids.append(msg.headers["Nats-Msg-Id"])
    await nc.close()
    return ids


def expected_ids(sender_id: str, facts: list) -> list[str]:
    return [message.received_event_id(sender_id, pmid) if status is None
            else message.provider_status_event_id(sender_id, pmid, status) for pmid, status in facts]


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
                            start_new_session=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sb-bench-ingest-") as tmp:
        tmp = Path(tmp)
        server = NatsServer(tmp / "nats").start()
        procs: list[subprocess.Popen] = []
        try:
            org, sender_id = new_id(), new_id()
            asyncio.run(register_route(server.url, org, sender_id))
            ingest_port, bare_port = free_port(), free_port()
            env = {**os.environ, "SWITCHBOARD_NATS_URL": server.url, "SWITCHBOARD_SECRET_KEY": SECRET_KEY,
                   "SWITCHBOARD_INGEST_PORT": str(ingest_port), "SWITCHBOARD_LOG_LEVEL": "WARNING"}
            procs.append(start([sys.executable, "-m", "switchboard_webhook_ingest.main"], env, tmp / "ingest.log"))
            procs.append(start([sys.executable, "-m", "bench.bare_endpoint", server.url, str(bare_port)], env,
                               tmp / "bare.log"))
            wait_for_port(bare_port, timeout=30)
            ingest_url, bare_url = f"http://127.0.0.1:{ingest_port}", f"http://127.0.0.1:{bare_port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{ingest_url}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            load(bare_url, "/bare", WARMUP, "warm-bare", tmp / "w1.json")
            warm = load(ingest_url, "/webhooks/meta", WARMUP, "warm", tmp / "w2.json")
            bare = load(bare_url, "/bare", DURATION, "bare", tmp / "bare.json")
            ingest = load(ingest_url, "/webhooks/meta", DURATION, "run", tmp / "ingest.json")
            want = expected_ids(sender_id, warm["accepted_facts"] + ingest["accepted_facts"])
            got = asyncio.run(stored_event_ids(server.url, org))
            exactly_once = len(got) == len(set(got)) and set(got) == set(want) and len(want) == len(set(want))
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=20)
            server.stop()

    value, baseline = ingest["ok_per_second"], bare["ok_per_second"]
    params = {"seconds": DURATION, "connections": CONNECTIONS, "deliveries": ingest["requests"],
              "statuses": ingest["statuses"], "events_expected": len(want), "events_stored": len(got),
              "exactly_once": exactly_once, "p50_ms": round(ingest["p50_ms"], 2),
              "baseline_p99_ms": round(bare["p99_ms"], 2)}
    result = write_result("ingest", value, "deliveries/s", baseline, params)
    result["p99_ms"] = round(ingest["p99_ms"], 2)
    (Path(__file__).parent / "results" / "ingest.json").write_text(json.dumps(result, indent=2) + "\n")
    print_table([
        ("baseline: bare FastAPI endpoint + JetStream publish", f"{baseline:,.0f} req/s  (p99 {bare['p99_ms']:.1f} ms)"),
        ("webhook-ingest: signed Meta deliveries", f"{value:,.0f} deliveries/s"),
        ("ratio ingest / baseline", f"{result['ratio']:.3f}   (target ≥ 0.8)"),
        ("ingest latency p50 / p99", f"{ingest['p50_ms']:.1f} ms / {ingest['p99_ms']:.1f} ms   (target p99 ≤ 50 ms)"),
        ("events expected / stored", f"{len(want):,} / {len(got):,}   exactly once: {exactly_once}"),
        ("responses", json.dumps(ingest["statuses"])),
        ("written", "bench/results/ingest.json"),
    ])
    if not exactly_once:
        raise SystemExit("FAILED: the stored events are not exactly the accepted deliveries' events")


if __name__ == "__main__":
    main()
