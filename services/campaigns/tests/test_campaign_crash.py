"""A 20,000-contact campaign survives SIGKILLs of both services that carry it, each restarted:

1. the campaigns service, while its runner publishes a batch of send commands and has not yet
   committed those contacts as queued (they stay pending and are published again, same ids);
2. the session-pool, the moment the simulator commits a batch of sends: those commands are sent but
   not acked (JetStream redelivers them after the ack wait), and more wait un-acked behind them.

The campaign completes with every contact sent, and the simulator's record shows every contact got
its message exactly once (one row per message id, `attempts = 1`), under the campaign's deterministic
ids. Each kill is retried (at most 6 times) until it lands in the window it is meant for, and the
test fails if none did: a kill that hits nothing proves nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter

import httpx
import nats
import nats.js.errors
from sqlalchemy import Engine, create_engine, text

from switchboard_contracts import commands, streams
from switchboard_contracts.campaign import campaign_message_id
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.ports import server_port
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, internal_token
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.processes import ready, sigkill, start, stop

from switchboard_campaigns.counts import COUNTS  # the service's own count query

TOTAL = 20_000
DEADLINE = 180.0  # seconds for the whole run, kills and restarts included
TRIES = 6  # kills of one service at most, until one lands in the window it aims for (beside CPU-bound tests a kill can come late)
POOL = "switchboard_session_pool.main"
CAMPAIGNS = "switchboard_campaigns.main"

PENDING = text("SELECT message_id::text FROM campaigns.contacts WHERE campaign_id = :c AND status = 'pending'")
SIMULATED = text("SELECT count(*) FROM session_pool.simulator_sends WHERE org_id = :o")
DONE = text("SELECT message_id FROM session_pool.outbound_messages WHERE org_id = :o AND state = 'done'")
SENDS = text("SELECT message_id, recipient, text, attempts FROM session_pool.simulator_sends WHERE org_id = :o")
KNOWN = text("SELECT 1 FROM campaigns.senders WHERE sender_id = :s")
CONTACTS = text("SELECT message_id::text, phone FROM campaigns.contacts WHERE campaign_id = :c")


def phone(i: int) -> str:
    return f"+49151{i:07d}1"  # a valid German mobile number, never ending in 0000 (the simulator fails those)


def name(i: int) -> str:
    return f"Ana{i}" if i % 2 else ""  # every other contact has no name: "Hi there"


class Published:
    """The organization's send commands as the NATS server received them: a core subscription sees
    every publish, also those JetStream then drops as duplicates. `kill_at_next(proc)` SIGKILLs the
    process as the next command arrives, inside the subscription's callback: a test coroutine woken
    by it would run only once the callback had drained every message already buffered (the rest of
    the batch), by when the runner has often committed it."""

    def __init__(self) -> None:
        self.times: Counter[str] = Counter()  # message id → how often it was published
        self.arrived = asyncio.Event()
        self._kill: subprocess.Popen | None = None

    def kill_at_next(self, proc: subprocess.Popen) -> None:
        self.arrived.clear()
        self._kill = proc

    async def follow(self, nc, org: str) -> None:
        async def seen(msg) -> None:
            if self._kill is not None:
                proc, self._kill = self._kill, None
                os.killpg(proc.pid, signal.SIGKILL)
                self.arrived.set()
            self.times[json.loads(msg.data)["id"]] += 1

        await nc.subscribe(f"sb.cmd.{org}.message.send", cb=seen)


async def known_sender(db: Engine, sender_id: str) -> None:
    """Until the campaigns service has the sender in its directory (from the `sender.*` events)."""
    for _ in range(300):
        with db.connect() as conn:
            if conn.execute(KNOWN, {"s": sender_id}).first():
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the campaigns service never learnt of the sender")


def kill_after_a_send(proc: subprocess.Popen, db: Engine, org: str) -> None:
    """SIGKILL the session-pool the moment its simulator has committed a new batch of sends."""
    deadline = time.monotonic() + 30
    with db.connect() as conn:
        before = conn.execute(SIMULATED, {"o": org}).scalar_one()
        while conn.execute(SIMULATED, {"o": org}).scalar_one() == before:
            assert time.monotonic() < deadline, "the session-pool sent nothing for 30 s"
            conn.rollback()  # a fresh snapshot each time
    sigkill(proc)


async def held_commands(js, org: str) -> set[str]:
    """The ids of the organization's send commands still in the work-queue stream (not acked)."""
    ids, seq, subject = set(), 1, f"sb.cmd.{org}.message.send"
    while True:
        try:
            msg = await js.get_msg(streams.COMMANDS.name, seq=seq, subject=subject, next=True)
        except nats.js.errors.NotFoundError:
            return ids
        ids.add(CloudEvent.from_json_bytes(msg.data).id)
        seq = msg.seq + 1


def sent(counts: dict[str, int]) -> int:
    return sum(counts.get(s, 0) for s in ("sent", "delivered", "read"))


def partial(counts: dict[str, int]) -> bool:
    """Mid-run: some contacts sent, some still waiting to be taken."""
    return 0 < sent(counts) < TOTAL and counts.get("pending", 0) > 0


async def test_sigkill_campaigns_and_session_pool_mid_run_sends_everyone_once(nats_url, database_url):
    t0 = time.monotonic()
    org, sender_id, port = new_id(), new_id(), server_port()
    campaigns_env = {"SWITCHBOARD_CAMPAIGNS_HOST": "127.0.0.1", "SWITCHBOARD_CAMPAIGNS_PORT": str(port)}
    db = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    published = Published()
    await published.follow(nc, org)
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, headers={
        ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)})
    pool = campaigns = None
    view: dict = {}

    def counts(cid: str) -> dict[str, int]:
        with db.connect() as conn:
            return {s: int(n) for s, n in conn.execute(COUNTS, {"cid": cid})}

    async def campaign(cid: str) -> dict:
        r = await http.get(f"/v1/campaigns/{cid}")
        assert r.status_code == 200, r.text
        return r.json()

    async def until(cid: str, done) -> dict:
        current = await campaign(cid)
        while not done(current) and time.monotonic() - t0 < DEADLINE:
            await asyncio.sleep(0.05)
            current = await campaign(cid)
        return current

    try:
        pool = start(POOL, nats_url, database_url)
        campaigns = start(CAMPAIGNS, nats_url, database_url, **campaigns_env)
        await ready(js, pool, "session-pool")
        await ready(js, campaigns, "campaigns")
        register = make_envelope(id=new_id(), source="test", type=commands.REGISTER_SENDER, orgid=org,
                                 data=commands.RegisterSender(sender_id=sender_id, name="crash", provider="simulator"))
        await js.publish(f"sb.cmd.{org}.sender.register", register.to_json_bytes(),
                         headers={"Nats-Msg-Id": register.id})

        r = await http.post("/v1/campaigns", json={"name": "crash", "sender_ids": [sender_id],
                                                   "text": "Hi {{name|there}}"})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        csv = "phone,name\n" + "".join(f"{phone(i)},{name(i)}\n" for i in range(TOTAL))
        r = await http.post(f"/v1/campaigns/{cid}/contacts", content=csv.encode(),
                            headers={"content-type": "text/csv"})
        assert r.status_code == 200, r.text
        assert (r.json()["accepted"], r.json()["rejected_total"]) == (TOTAL, 0), r.json()
        await known_sender(db, sender_id)  # a campaign starts only with a sender the service knows of
        r = await http.post(f"/v1/campaigns/{cid}/start")
        assert r.status_code == 200, r.text

        # 1. The campaigns service, as a batch of its commands reaches NATS.
        await until(cid, lambda c: c["stats"]["sent"] >= 3000)
        campaigns_kills = []  # (counts at the kill, commands published whose contacts stayed pending)
        for _ in range(TRIES):
            published.kill_at_next(campaigns)
            await asyncio.wait_for(published.arrived.wait(), timeout=30)
            campaigns.wait(timeout=10)  # killed in the callback; reaped here
            at = counts(cid)
            await asyncio.sleep(0.5)  # what the dead process had written reaches the subscription
            with db.connect() as conn:
                unmarked = set(conn.execute(PENDING, {"c": cid}).scalars()) & set(published.times)
            campaigns_kills.append((at, len(unmarked)))
            campaigns = start(CAMPAIGNS, nats_url, database_url, **campaigns_env)
            await ready(js, campaigns, "campaigns")
            if unmarked:
                break

        # 2. The session-pool, as the simulator commits a batch: sent, not yet acked.
        await until(cid, lambda c: c["stats"]["sent"] >= sent(campaigns_kills[-1][0]) + 5000)
        pool_kills = []  # (counts at the kill, commands not acked, of which already sent)
        for _ in range(TRIES):
            kill_after_a_send(pool, db, org)
            at = counts(cid)
            held = await held_commands(js, org)
            with db.connect() as conn:
                done = set(conn.execute(DONE, {"o": org}).scalars())
            pool_kills.append((at, len(held), len(held & done)))
            pool = start(POOL, nats_url, database_url)
            await ready(js, pool, "session-pool")
            if held & done:
                break

        view = await until(cid, lambda c: c["status"] == "completed")
        for at, unmarked_n in campaigns_kills:
            print(f"\ncampaigns killed at {at}: {unmarked_n} commands published, contacts not marked queued")
        print(f"{sum(n > 1 for n in published.times.values())} commands published again")
        for at, held_n, sent_n in pool_kills:
            print(f"session-pool killed at {at}: {held_n} commands not acked, {sent_n} of them sent")
        print(f"completed after {time.monotonic() - t0:.1f}s")
    finally:
        await http.aclose()
        await stop(campaigns)
        await stop(pool)
        await nc.close()

    assert all(partial(at) for at, _ in campaigns_kills), f"a campaigns kill came outside the run: {campaigns_kills}"
    assert campaigns_kills[-1][1] > 0, f"no campaigns kill came between a publish and its commit: {campaigns_kills}"
    assert all(partial(at) for at, _, _ in pool_kills), f"a session-pool kill came outside the run: {pool_kills}"
    assert pool_kills[-1][2] > 0, f"no session-pool kill found a command sent but not acked: {pool_kills}"
    assert view["status"] == "completed", f"not completed within {DEADLINE:.0f}s: {view}"
    assert (view["stats"]["total"], view["stats"]["sent"]) == (TOTAL, TOTAL), view["stats"]
    final = counts(cid)
    assert not final.get("pending") and not final.get("queued"), final

    with db.connect() as conn:
        sends = conn.execute(SENDS, {"o": org}).all()
        contacts = dict(conn.execute(CONTACTS, {"c": cid}).all())
    db.dispose()
    twice = [(m, a) for m, _, _, a in sends if a != 1]
    assert not twice, f"{len(twice)} messages reached the simulator more than once, e.g. {twice[:5]}"
    assert len(sends) == TOTAL, f"{len(sends)} sends for {TOTAL} contacts"
    by_phone = {p: (m, t) for m, p, t, _ in sends}
    expected = {phone(i): f"Hi {name(i) or 'there'}" for i in range(TOTAL)}
    assert set(by_phone) == set(expected), f"{len(set(expected) - set(by_phone))} contacts skipped"
    assert {p: (campaign_message_id(cid, p), t) for p, t in expected.items()} == by_phone
    assert contacts == {m: p for p, (m, _) in by_phone.items()}
