"""Two real session-pool replicas (two processes) consume the same command stream: a sender's quota
is never exceeded, because its state is shared and changed only by compare-and-set."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from sqlalchemy import create_engine, text

from switchboard_contracts import streams
from switchboard_contracts.ids import new_id
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY

from .helpers import collect_events, publish_command, register_simulator, running_session_pool, send_command


def sends(database_url: str, sender_id: str) -> int:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM session_pool.simulator_sends WHERE sender_id = :s"),
                             {"s": sender_id}).scalar_one()
    engine.dispose()
    return count


async def second_replica_ready(js, timeout: float = 30.0) -> None:
    kv = await ensure_key_value(js, streams.SERVICES)
    for _ in range(int(timeout / 0.1)):
        try:
            keys = await kv.keys()
        except Exception:  # noqa: BLE001 - no keys yet
            keys = []
        if any(k.startswith("session-pool.") and not k.endswith(f"-{os.getpid()}") for k in keys):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the second replica never reported ready")


async def test_two_replicas_never_exceed_a_senders_quota(nats_url, database_url):
    org, sender_id = new_id(), new_id()
    env = {**os.environ, "SWITCHBOARD_NATS_URL": nats_url, "SWITCHBOARD_DATABASE_URL": database_url,
           "SWITCHBOARD_SECRET_KEY": TEST_SECRET_KEY, "SWITCHBOARD_SEND_BATCH_SIZE": "2",
           "SWITCHBOARD_HEARTBEAT_SECONDS": "0.5", "SWITCHBOARD_LOG_LEVEL": "WARNING"}
    async with running_session_pool(nats_url, database_url, send_batch_size=2) as js:
        await register_simulator(js, org, sender_id, per_minute=10)
        replica = subprocess.Popen([sys.executable, "-m", "switchboard_session_pool.main"], env=env,
                                   start_new_session=True)
        try:
            await second_replica_ready(js)
            commands = [send_command(org, sender_id, f"+4915120001{i:03d}") for i in range(40)]
            for ce in commands:
                await publish_command(js, ce)
            # every message is accepted (queued) by one replica or the other...
            await collect_events(js, f"sb.evt.{org}.message.accepted", lambda ev: len(ev) == 40, timeout=20)
            await asyncio.sleep(2.0)  # ...and whatever could go has gone
            assert sends(database_url, sender_id) == 10
            events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: sum(
                1 for e in ev if e.data["status"] == "sent") >= 10, timeout=10)
            await asyncio.sleep(0.5)
            assert sends(database_url, sender_id) == 10
            assert not any(e.data["status"] in ("failed", "expired") for e in events)  # the rest wait
        finally:
            replica.send_signal(signal.SIGTERM)
            replica.wait(timeout=30)
