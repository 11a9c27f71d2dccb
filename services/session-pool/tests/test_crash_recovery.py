"""SIGKILL the session-pool in the middle of a 2,000-message run, restart it: every message ends with
exactly one terminal outcome and the simulator received no message twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import nats
from sqlalchemy import create_engine, text

from switchboard_contracts import commands, streams
from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.ids import new_id
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY

from .helpers import command, send_command

TOTAL = 2000


def start(nats_url: str, database_url: str) -> subprocess.Popen:
    env = {**os.environ, "SWITCHBOARD_NATS_URL": nats_url, "SWITCHBOARD_DATABASE_URL": database_url,
           "SWITCHBOARD_SECRET_KEY": TEST_SECRET_KEY, "SWITCHBOARD_HEARTBEAT_SECONDS": "0.5",
           "SWITCHBOARD_LOG_LEVEL": "WARNING", "SWITCHBOARD_SEND_BATCH_SIZE": "128"}
    return subprocess.Popen([sys.executable, "-m", "switchboard_session_pool.main"], env=env,
                            start_new_session=True)


async def ready(js, proc: subprocess.Popen) -> None:
    kv = await ensure_key_value(js, streams.SERVICES)
    for _ in range(600):
        assert proc.poll() is None, "the session-pool exited"
        try:
            if f"session-pool.{os.uname().nodename}-{proc.pid}" in await kv.keys():
                return
        except Exception:  # noqa: BLE001 - no keys yet
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the session-pool never reported ready")


class Outcomes:
    """Terminal statuses per message, read from the events stream as they arrive."""

    def __init__(self) -> None:
        self.terminal: dict[str, set[str]] = {}

    async def follow(self, js, org: str) -> None:
        sub = await js.subscribe(f"sb.evt.{org}.message.status", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
        async for msg in sub.messages:
            ce = CloudEvent.from_json_bytes(msg.data)
            if ce.data["status"] in ("sent", "failed", "expired"):
                self.terminal.setdefault(ce.data["message_id"], set()).add(ce.data["status"])


async def until(predicate, timeout: float) -> None:
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_sigkill_mid_run_loses_and_duplicates_nothing(nats_url, database_url):
    org, sender_id = new_id(), new_id()
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    proc = start(nats_url, database_url)
    outcomes, follower = Outcomes(), None
    try:
        await ready(js, proc)
        register = command(org, commands.REGISTER_SENDER, commands.RegisterSender(
            sender_id=sender_id, name="crash", provider="simulator"))
        await js.publish(f"sb.cmd.{org}.sender.register", register.to_json_bytes(), headers={"Nats-Msg-Id": register.id})
        follower = asyncio.create_task(outcomes.follow(js, org))
        # every 50th recipient ends in 0000: the simulator fails those (terminal `failed`)
        sends = [send_command(org, sender_id, f"+49151{i:04d}{'0000' if i % 50 == 0 else '1234'}") for i in range(TOTAL)]
        await Publisher(nc, js).publish_many(sends)
        await until(lambda: len(outcomes.terminal) >= 300, timeout=60)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-run: some batches done, some not
        proc.wait(timeout=10)
        killed_at = len(outcomes.terminal)
        proc = start(nats_url, database_url)
        await until(lambda: len(outcomes.terminal) == TOTAL, timeout=120)
    finally:
        if follower:
            follower.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        await nc.close()
    assert killed_at < TOTAL, "the kill came after the run: it proved nothing"
    assert all(len(kinds) == 1 for kinds in outcomes.terminal.values()), "a message with two different outcomes"
    failed = {mid for mid, kinds in outcomes.terminal.items() if kinds == {"failed"}}
    assert len(failed) == TOTAL // 50
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT message_id, attempts FROM session_pool.simulator_sends WHERE sender_id = :s"),
                            {"s": sender_id}).all()
    engine.dispose()
    assert len(rows) == TOTAL - len(failed)
    assert max(a for _, a in rows) == 1, "the simulator received a message twice"
    assert {m for m, _ in rows} == set(outcomes.terminal) - failed
