"""Pipeline benchmark.

(a) baseline: 50,000 512-byte messages published pipelined to JetStream while a pull consumer
    consumes and acks them — the raw broker rate on this machine, now.
(b) pipeline: 20,000 send commands through the session-pool (simulator provider, quotas enforced but
    set high: every batch takes its room from the shared, compare-and-set quota state)
    until every message's `sent` status is recorded in the conversations service's history.

Both run against the same freshly started embedded NATS and PostgreSQL; the ratio b/a is reported.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nats
import psycopg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from switchboard_contracts import commands
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.nats_server import NatsServer
from switchboard_devkit.postgres_server import PostgresServer

from .report import print_table, write_result

BASELINE_MESSAGES = int(os.environ.get("BENCH_BASELINE_MESSAGES", "50000"))
PIPELINE_MESSAGES = int(os.environ.get("BENCH_PIPELINE_MESSAGES", "20000"))
# Distinct recipients by default: every message opens a new conversation (the worst case).
RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", str(PIPELINE_MESSAGES)))
PAYLOAD = 512
HIGH_QUOTAS = {"per_minute": 10_000_000, "per_hour": 100_000_000, "per_day": 1_000_000_000}
TIMEOUT = 600


async def publish_pipelined(js, items: list[tuple[str, bytes, dict | None]], window: int = 1000) -> None:
    """Publish with up to `window` acks outstanding."""
    for start in range(0, len(items), window):
        await asyncio.gather(*(js.publish(subject, body, headers=headers)
                               for subject, body, headers in items[start:start + window]))


async def baseline(nats_url: str) -> float:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="BENCH_BASELINE", subjects=["bench.baseline.>"]))
    sub = await js.pull_subscribe("bench.baseline.>", durable="bench", stream="BENCH_BASELINE",
                                  config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=-1))
    payloads = [os.urandom(PAYLOAD // 2).hex().encode() for _ in range(BASELINE_MESSAGES)]
    consumed = 0

    async def consume() -> None:
        nonlocal consumed
        while consumed < BASELINE_MESSAGES:
            try:
                msgs = await sub.fetch(500, timeout=1)
            except nats.errors.TimeoutError:
                continue
            for m in msgs:
                await m.ack()
            consumed += len(msgs)

    started = time.perf_counter()
    consumer = asyncio.create_task(consume())
    await publish_pipelined(js, [(f"bench.baseline.{i % 16}", p, None) for i, p in enumerate(payloads)])
    await asyncio.wait_for(consumer, TIMEOUT)
    elapsed = time.perf_counter() - started
    await js.delete_stream("BENCH_BASELINE")
    await nc.close()
    return BASELINE_MESSAGES / elapsed


def start_service(module: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module], env=env, stdout=open(log, "wb"),  # noqa: SIM115
                            stderr=subprocess.STDOUT, start_new_session=True)


async def wait_consumer(js, stream: str, durable: str) -> None:
    for _ in range(600):
        try:
            await js.consumer_info(stream, durable)
            return
        except Exception:  # noqa: BLE001
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{durable} never appeared")


async def pipeline(nats_url: str, db_url: str) -> tuple[float, dict]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    org, sender = new_id(), new_id()
    reg = make_envelope(id=new_id(), source="bench", type=commands.REGISTER_SENDER, orgid=org,
                        data=commands.RegisterSender(sender_id=sender, name="bench", provider="simulator",
                                                     quotas=HIGH_QUOTAS))
    await js.publish(f"sb.cmd.{org}.sender.register", reg.to_json_bytes(), headers={"Nats-Msg-Id": reg.id})
    sub = await js.subscribe(f"sb.evt.{org}.sender.connected", stream="SWITCHBOARD_EVENTS",
                             ordered_consumer=True)
    await sub.next_msg(timeout=60)
    await sub.unsubscribe()

    now = datetime.now(UTC)
    payloads = []
    for i in range(PIPELINE_MESSAGES):
        cmd = commands.SendMessage(message_id=new_id(), sender_id=sender, to=f"+49151{i % RECIPIENTS:07d}1",
                                   text=f"Hello #{i}, your order has shipped.", requested_at=now)
        ce = make_envelope(id=cmd.message_id, source="bench", type=commands.SEND_MESSAGE, orgid=org, data=cmd)
        payloads.append((ce.id, ce.to_json_bytes()))

    started = time.perf_counter()
    subject = f"sb.cmd.{org}.message.send"
    await publish_pipelined(js, [(subject, body, {"Nats-Msg-Id": mid}) for mid, body in payloads])
    published = time.perf_counter() - started

    done, sent_by_pool_at = 0, None
    with psycopg.connect(db_url, autocommit=True) as conn:
        deadline = time.monotonic() + TIMEOUT
        while done < PIPELINE_MESSAGES:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {done} of {PIPELINE_MESSAGES} recorded as sent")
            done = conn.execute(
                "SELECT count(*) FROM conversations.conversation_messages WHERE org_id = %s "
                "AND status IN ('sent', 'delivered', 'read')", (org,)).fetchone()[0]
            if sent_by_pool_at is None and conn.execute(
                    "SELECT count(*) FROM session_pool.outbound_messages WHERE org_id = %s AND state = 'done'",
                    (org,)).fetchone()[0] >= PIPELINE_MESSAGES:
                sent_by_pool_at = time.perf_counter() - started
            await asyncio.sleep(0.2)  # the poll is measurement overhead: keep it light
    elapsed = time.perf_counter() - started
    await nc.close()
    return PIPELINE_MESSAGES / elapsed, {"publish_seconds": round(published, 2),
                                         "session_pool_done_seconds": round(sent_by_pool_at or elapsed, 2),
                                         "total_seconds": round(elapsed, 2)}


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    os.chmod(root, 0o755)
    nats_server = NatsServer(root / "nats").start()
    postgres = PostgresServer(root / "pg", durable=True).start()
    procs: list[subprocess.Popen] = []
    try:
        base = await baseline(nats_server.url)
        env = {**os.environ, "SWITCHBOARD_NATS_URL": nats_server.url,
               "SWITCHBOARD_DATABASE_URL": postgres.url, "SWITCHBOARD_LOG_FORMAT": "console",
               "SWITCHBOARD_LOG_LEVEL": "WARNING"}
        for module in ("switchboard_session_pool.main", "switchboard_conversations.main"):
            procs.append(start_service(module, env, root / f"{module}.log"))
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        await wait_consumer(js, "SWITCHBOARD_COMMANDS", "session_pool__send")
        await wait_consumer(js, "SWITCHBOARD_EVENTS", "conversations__history")
        await nc.close()
        rate, extra = await pipeline(nats_server.url, postgres.url)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        postgres.stop()
        nats_server.stop()
    params = {"baseline_messages": BASELINE_MESSAGES, "baseline_payload_bytes": PAYLOAD,
              "pipeline_messages": PIPELINE_MESSAGES, "provider": "simulator", "quotas": HIGH_QUOTAS,
              "recipients": RECIPIENTS, "cpus": os.cpu_count(), **extra}
    result = write_result("pipeline", rate, "messages/s", base, params)
    print_table([
        ("baseline: JetStream publish+consume (512 B)", f"{base:,.0f} msg/s"),
        ("pipeline: send command → sent in conversations", f"{rate:,.0f} msg/s"),
        ("ratio pipeline / baseline", f"{result['ratio']:.3f}"),
        ("commands published in", f"{extra['publish_seconds']} s"),
        ("session-pool sent all in", f"{extra['session_pool_done_seconds']} s"),
        ("history recorded all in", f"{extra['total_seconds']} s"),
        ("target", "≥ 1,000 msg/s end to end"),
        ("written", "bench/results/pipeline.json"),
    ])


if __name__ == "__main__":
    asyncio.run(main())
