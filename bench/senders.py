"""Senders benchmark (`make bench-senders`).

10,000 simulator senders (with quotas) in one session-pool process, then 20,000 send commands spread
over them. Reads the process's own figures from `GET /metrics`: resident memory and the admission
decision time (quota from the shared state + pair rate + health) per message and per batch. The
baseline, measured in the same run, is the floor of one shared quota decision: a KV get and a
compare-and-set update against the same NATS server, p50.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
import psycopg

from switchboard_contracts import commands
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.nats_server import NatsServer
from switchboard_devkit.ports import free_port
from switchboard_devkit.postgres_server import PostgresServer

from .pipeline import publish_pipelined, start_service, wait_consumer
from .report import RESULTS, print_table, write_result

SENDERS = int(os.environ.get("BENCH_SENDERS", "10000"))
MESSAGES = int(os.environ.get("BENCH_SENDER_MESSAGES", "20000"))
QUOTAS = {"per_minute": 60, "per_hour": 1000, "per_day": 10000}
TIMEOUT = 900


async def kv_baseline(nats_url: str, rounds: int = 2000) -> float:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    from nats.js.api import KeyValueConfig

    kv = await js.create_key_value(KeyValueConfig(bucket="bench_cas", direct=True))
    revision = await kv.put("k", b"{}")
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        entry = await kv.get("k")
        revision = await kv.update("k", entry.value, last=revision)
        times.append((time.perf_counter() - started) * 1000)
    await js.delete_key_value("bench_cas")
    await nc.close()
    return sorted(times)[len(times) // 2]


async def count(conn_url: str, sql: str, args: tuple, want: int, what: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(conn_url, autocommit=True) as conn:
        while (have := conn.execute(sql, args).fetchone()[0]) < want:
            if time.perf_counter() - started > TIMEOUT:
                raise TimeoutError(f"only {have} of {want} {what}")
            await asyncio.sleep(0.5)
    return time.perf_counter() - started


async def run(nats_url: str, db_url: str, metrics_url: str) -> dict:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    org = new_id()
    senders = [new_id() for _ in range(SENDERS)]
    regs = [make_envelope(id=new_id(), source="bench", type=commands.REGISTER_SENDER, orgid=org,
                          data=commands.RegisterSender(sender_id=s, name=f"s{i}", provider="simulator", quotas=QUOTAS))
            for i, s in enumerate(senders)]
    await publish_pipelined(js, [(f"sb.cmd.{org}.sender.register", ce.to_json_bytes(), {"Nats-Msg-Id": ce.id})
                                 for ce in regs])
    registered_in = await count(db_url, "SELECT count(DISTINCT originator_id) FROM session_pool.senders_events",
                                (), SENDERS, "senders registered")
    now = datetime.now(UTC)
    sends = []
    for i in range(MESSAGES):
        cmd = commands.SendMessage(message_id=new_id(), sender_id=senders[i % SENDERS], to=f"+49152{i:07d}1",
                                   text=f"Hello #{i}", requested_at=now)
        sends.append(make_envelope(id=cmd.message_id, source="bench", type=commands.SEND_MESSAGE, orgid=org, data=cmd))
    started = time.perf_counter()
    await publish_pipelined(js, [(f"sb.cmd.{org}.message.send", ce.to_json_bytes(), {"Nats-Msg-Id": ce.id})
                                 for ce in sends])
    await count(db_url, "SELECT count(*) FROM session_pool.simulator_sends WHERE org_id = %s", (org,),
                MESSAGES, "messages sent")
    elapsed = time.perf_counter() - started
    await nc.close()
    metrics = httpx.get(metrics_url, timeout=10).json()
    return {"registered_in": registered_in, "send_seconds": elapsed, "metrics": metrics}


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="switchboard-bench-senders-"))
    os.chmod(root, 0o755)
    nats_server = NatsServer(root / "nats").start()
    postgres = PostgresServer(root / "pg", durable=True).start()
    health_port = free_port()
    proc = None
    try:
        baseline = await kv_baseline(nats_server.url)
        env = {**os.environ, "SWITCHBOARD_NATS_URL": nats_server.url, "SWITCHBOARD_DATABASE_URL": postgres.url,
               "SWITCHBOARD_LOG_FORMAT": "console", "SWITCHBOARD_LOG_LEVEL": "WARNING",
               "SWITCHBOARD_HEALTH_PORT": str(health_port)}
        proc = start_service("switchboard_session_pool.main", env, root / "session-pool.log")
        nc = await nats.connect(nats_server.url)
        await wait_consumer(nc.jetstream(), "SWITCHBOARD_COMMANDS", "session_pool__send")
        await nc.close()
        out = await run(nats_server.url, postgres.url, f"http://127.0.0.1:{health_port}/metrics")
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
        postgres.stop()
        nats_server.stop()
    m = out["metrics"]
    per_msg, per_batch = m["admission_ms_per_message"], m["admission_ms_per_batch"]
    params = {"senders": SENDERS, "messages": MESSAGES, "quotas": QUOTAS, "senders_loaded": m["senders_loaded"],
              "admission_p50_ms": per_msg["p50"], "admission_batch_p50_ms": per_batch["p50"],
              "admission_batch_p99_ms": per_batch["p99"], "registration_seconds": round(out["registered_in"], 1),
              "send_seconds": round(out["send_seconds"], 1), "cpus": os.cpu_count()}
    result = write_result("senders", per_msg["p99"], "ms per admission decision (p99)", baseline, params)
    result.update({"rss_mb": m["rss_mb"], "admission_p99_ms": per_msg["p99"]})
    (RESULTS / "senders.json").write_text(json.dumps(result, indent=2) + "\n")
    print_table([
        ("simulator senders in one session-pool", f"{SENDERS:,} (registered in {out['registered_in']:.1f} s)"),
        ("resident memory", f"{m['rss_mb']:,.0f} MB   (target ≤ 1024 MB)"),
        ("admission per message p50 / p99", f"{per_msg['p50']} / {per_msg['p99']} ms   (target p99 ≤ 1 ms)"),
        ("admission per batch p50 / p99", f"{per_batch['p50']} / {per_batch['p99']} ms"),
        ("baseline: one KV get + CAS update, p50", f"{baseline:.3f} ms"),
        ("messages sent", f"{MESSAGES:,} in {out['send_seconds']:.1f} s"),
        ("written", "bench/results/senders.json"),
    ])


if __name__ == "__main__":
    asyncio.run(main())
