"""`switchboard events dead-letters list | replay` end to end: a real service host's BatchConsumer rejects
a message (a dead letter, listed with its reason), the cause is fixed, the CLI gives it back, and the
consumer handles it exactly once; nothing is left to list."""

from __future__ import annotations

import asyncio
import time

import nats

from switchboard_cli.dead_letters import dead_letters, replay_dead_letters
from switchboard_contracts import streams as specs
from switchboard_contracts.streams import ConsumerSpec
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.consumer import BatchOutcome, Delivery
from switchboard_runtime.settings import ServiceSettings

from .helpers import SCRIPT, env, invoke, publish_async

SPEC = ConsumerSpec(stream=specs.EVENTS.name, durable="clitest__statuses", filter_subjects=["sb.evt.*.message.status"],
                    ack_wait_seconds=5)
BYSTANDER = ConsumerSpec(stream=specs.EVENTS.name, durable="clitest__bystander",
                         filter_subjects=["sb.evt.*.message.status"])


class Handler:
    def __init__(self) -> None:
        self.broken = True
        self.handled: list[str] = []

    async def handle(self, batch: list[Delivery]) -> BatchOutcome:
        out = BatchOutcome()
        for d in batch:
            ce = d.event()
            if self.broken and ce.orgid == "beta":
                out.reject(d, "unknown sender s for beta")
            else:
                self.handled.append(ce.id)
        return out


async def cli(*args: str, nats_url: str, script: bool = False) -> tuple[int, str]:
    """`switchboard events dead-letters ARGS`: in this process (in a thread: the CLI runs its own event
    loop), or as the console script."""
    if not script:
        ran = await asyncio.to_thread(invoke, "dead-letters", *args, SWITCHBOARD_NATS_URL=nats_url)
        return ran.returncode, ran.stdout + ran.stderr
    proc = await asyncio.create_subprocess_exec(SCRIPT, "events", "dead-letters", *args, env=env(
        SWITCHBOARD_NATS_URL=nats_url), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, output.decode()


async def eventually(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_rejected_message_is_listed_then_given_back_and_handled_once(nats_url: str) -> None:
    handler, bystander = Handler(), Handler()
    bystander.broken = False
    stop, ready = asyncio.Event(), asyncio.Event()

    async def wire(host: Host, settings: ServiceSettings) -> None:
        await host.bus()
        host.consumer(SPEC, handler.handle)
        host.consumer(BYSTANDER, bystander.handle)
        host.step("ready", ready.set)

    service = asyncio.create_task(hosted("cli-test", ServiceSettings, wire)(
        stop, ServiceSettings(nats_url=nats_url, log_format="console")))
    nc = await nats.connect(nats_url)
    js = BusJetStream(nc)
    try:
        await asyncio.wait_for(ready.wait(), 20)
        published = await publish_async(nats_url, 30)  # 10 statuses per org
        beta_statuses = [b for _, t, b in published["beta"] if t.endswith("status.v1")]

        async def all_dead() -> bool:
            return len(await dead_letters(js, SPEC.durable)) == len(beta_statuses)
        await eventually(all_dead)
        await eventually(lambda: _true(len(bystander.handled) == 20))
        code, listing = await cli("list", "--consumer", SPEC.durable, nats_url=nats_url, script=True)
        assert code == 0, listing
        assert "10 dead letters of clitest__statuses" in listing and "unknown sender s for beta" in listing
        assert "beta switchboard.message.status.v1" in listing

        letters = await dead_letters(js)
        first = letters[0].sequence
        code, output = await cli("replay", "--seq", str(first), "--seq", "999999", nats_url=nats_url)
        assert code == 1 and "no such dead letters: 999999" in output  # the one that exists was given back

        async def failed_again() -> bool:  # still broken: the one given back is a dead letter again
            now = await dead_letters(js)
            return len(now) == len(beta_statuses) and first not in {d.sequence for d in now}
        await eventually(failed_again)
        assert not any(h.startswith("beta") for h in handler.handled)

        handler.broken = False  # the cause is fixed
        given = await replay_dead_letters(js, consumer=SPEC.durable)
        assert len(given) == len(beta_statuses)
        beta_ids = {f"beta-s{i}" for i in range(0, 30, 3)}

        async def handled_all() -> bool:
            return beta_ids <= set(handler.handled)
        await eventually(handled_all)
        await asyncio.sleep(0.5)  # nothing more arrives
        assert sorted(h for h in handler.handled if h.startswith("beta")) == sorted(beta_ids)  # each once
        assert len(bystander.handled) == 20  # the other consumer of the same events saw no replay
        assert await dead_letters(js) == []
        code, listing = await cli("list", nats_url=nats_url)
        assert code == 0 and "0 dead letters" in listing
        code, output = await cli("replay", nats_url=nats_url)
        assert code == 2  # neither a consumer nor sequences: refused
    finally:
        await nc.close()
        stop.set()
        await asyncio.wait_for(service, 20)


async def _true(value: bool) -> bool:
    return value
