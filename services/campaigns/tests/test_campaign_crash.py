"""A 20,000-contact campaign survives SIGKILLs: the campaigns service is killed while it publishes send
commands, the session-pool while it holds commands un-acked; both are restarted. The campaign
completes with every contact sent, and the simulator's record shows each contact received its message
exactly once (one row per message id, `attempts = 1`), under the campaign's deterministic ids."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx
import nats
import nats.js.errors
from sqlalchemy import create_engine, text

from switchboard_contracts import commands, streams
from switchboard_contracts.campaign import campaign_message_id
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import new_id
from switchboard_runtime.devinfra.ports import free_port
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, internal_token
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.testing.plugin import TEST_SECRET_KEY

TOTAL = 20_000
DEADLINE = 180.0  # seconds for the whole run, kills and restarts included


def phone(i: int) -> str:
    return f"+49151{i:07d}1"  # a valid German mobile number; never ends in 0000 (the simulator fails those)


def name(i: int) -> str:
    return f"Ana{i}" if i % 2 else ""  # every other contact without a name: "Hi there"


def start(module: str, nats_url: str, database_url: str, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "SWITCHBOARD_NATS_URL": nats_url, "SWITCHBOARD_DATABASE_URL": database_url,
           "SWITCHBOARD_SECRET_KEY": TEST_SECRET_KEY, "SWITCHBOARD_HEARTBEAT_SECONDS": "0.5",
           "SWITCHBOARD_LOG_LEVEL": "WARNING", "SWITCHBOARD_HEALTH_PORT": "0", **extra}
    return subprocess.Popen([sys.executable, "-m", module], env=env, start_new_session=True)


async def ready(js, proc: subprocess.Popen, service: str) -> None:
    kv = await ensure_key_value(js, streams.SERVICES)
    key = f"{service}.{os.uname().nodename}-{proc.pid}"
    for _ in range(600):
        assert proc.poll() is None, f"{service} exited with {proc.returncode}"
        try:
            if key in await kv.keys():
                return
        except Exception:  # noqa: BLE001 - no keys yet
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{service} never reported ready")


def sigkill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


async def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)
    for _ in range(150):
        if proc.poll() is not None:
            return
        await asyncio.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


class Published:
    """Every send command published for the organization, as the NATS server received it (a core
    subscription sees republished commands too, even those JetStream then drops as duplicates)."""

    def __init__(self) -> None:
        self.times: Counter[str] = Counter()
        self.arrived = asyncio.Event()

    async def follow(self, nc, org: str):
        async def seen(msg) -> None:
            self.times[msg.headers.get("Nats-Msg-Id", "") if msg.headers else ""] += 1
            self.arrived.set()

        return await nc.subscribe(f"sb.cmd.{org}.message.send", cb=seen)


async def test_sigkill_campaigns_and_session_pool_mid_run_sends_everyone_once(nats_url, database_url):
    t0 = time.monotonic()
    org, sender_id, port = new_id(), new_id(), free_port()
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    db = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    published = Published()
    await published.follow(nc, org)
    campaigns_env = {"SWITCHBOARD_CAMPAIGNS_HOST": "127.0.0.1", "SWITCHBOARD_CAMPAIGNS_PORT": str(port)}
    pool = campaigns = None
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, headers={
        ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)})

    async def stats(cid: str) -> dict:
        r = await http.get(f"/v1/campaigns/{cid}")
        r.raise_for_status()
        return r.json()

    async def until_sent(cid: str, at_least: int) -> dict:
        while time.monotonic() - t0 < DEADLINE:
            view = await stats(cid)
            if view["stats"]["sent"] >= at_least:
                return view
            await asyncio.sleep(0.05)
        raise AssertionError(f"fewer than {at_least} sent in time: {view['stats']}")

    def counts(cid: str) -> dict[str, int]:
        with db.connect() as conn:
            return dict(conn.execute(text("SELECT status, n FROM campaigns.campaign_counts WHERE campaign_id = :c"),
                                     {"c": cid}).all())

    try:
        pool = start("switchboard_session_pool.main", nats_url, database_url)
        campaigns = start("switchboard_campaigns.main", nats_url, database_url, **campaigns_env)
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
        assert r.json()["accepted"] == TOTAL and r.json()["rejected_total"] == 0, r.json()
        r = await http.post(f"/v1/campaigns/{cid}/start")
        assert r.status_code == 200, r.text

        # 1. Kill the campaigns service as a batch of commands reaches NATS: its runner is publishing
        # and has not yet (or only just) committed the contacts as queued.
        await until_sent(cid, 3000)
        published.arrived.clear()
        await asyncio.wait_for(published.arrived.wait(), timeout=30)
        sigkill(campaigns)
        at_campaigns_kill = counts(cid)
        await asyncio.sleep(0.5)  # what the dead process had written reaches the subscription
        with db.connect() as conn:
            left_pending = {str(m) for m in conn.execute(text(
                "SELECT message_id FROM campaigns.contacts WHERE campaign_id = :c AND status = 'pending'"),
                {"c": cid}).scalars()}
        published_unmarked = left_pending & set(published.times)
        campaigns = start("switchboard_campaigns.main", nats_url, database_url, **campaigns_env)
        await ready(js, campaigns, "campaigns")

        # 2. Kill the session-pool just as a batch of sends commits (the simulator records the send
        # and its outcome in one transaction): its commands are sent but not yet acked, its `sent`
        # statuses perhaps not yet published, and more commands wait un-acked behind it. Again if a
        # kill happened to find no sent-but-un-acked command.
        await until_sent(cid, counts_sent(at_campaigns_kill) + 5000)
        pool_kills = []
        for _ in range(3):
            kill_after_a_send(pool, db, org)
            at_pool_kill = counts(cid)
            held = await held_commands(js, org)  # JetStream redelivers these after the ack wait
            with db.connect() as conn:
                done = set(conn.execute(text("SELECT message_id FROM session_pool.outbound_messages "
                                             "WHERE org_id = :o AND state = 'done'"), {"o": org}).scalars())
            pool_kills.append((at_pool_kill, len(held), len(held & done)))
            pool = start("switchboard_session_pool.main", nats_url, database_url)
            await ready(js, pool, "session-pool")
            if held & done:
                break
        while time.monotonic() - t0 < DEADLINE:
            view = await stats(cid)
            if view["status"] == "completed":
                break
            await asyncio.sleep(0.5)
        print(f"\ncampaigns killed at {at_campaigns_kill}: {len(published_unmarked)} commands published, not "
              f"marked queued; {sum(n > 1 for n in published.times.values())} published again after the restart")
        for at, held_n, sent_n in pool_kills:
            print(f"session-pool killed at {at}: {held_n} commands un-acked, {sent_n} of them already sent")
        print(f"completed after {time.monotonic() - t0:.1f}s")
    finally:
        await http.aclose()
        await stop(campaigns)
        await stop(pool)
        await nc.close()

    assert 0 < counts_sent(at_campaigns_kill) < TOTAL and at_campaigns_kill.get("pending"), \
        f"the campaigns kill came outside the run: {at_campaigns_kill}"
    assert all(0 < counts_sent(at) < TOTAL and at.get("pending") for at, _, _ in pool_kills), \
        f"a session-pool kill came outside the run: {pool_kills}"
    assert pool_kills[-1][2] > 0, f"no session-pool kill found a command sent but not acked: {pool_kills}"
    assert view["status"] == "completed", f"not completed in {DEADLINE}s: {view}"
    assert view["stats"]["total"] == TOTAL and view["stats"]["sent"] == TOTAL, view["stats"]
    final = counts(cid)
    assert not final.get("pending") and not final.get("queued"), final

    with db.connect() as conn:
        sends = conn.execute(text("SELECT message_id, recipient, text, attempts FROM session_pool.simulator_sends "
                                  "WHERE org_id = :o"), {"o": org}).all()
        contacts = {str(m): p for m, p in conn.execute(text(
            "SELECT message_id, phone FROM campaigns.contacts WHERE campaign_id = :c"), {"c": cid}).all()}
    db.dispose()
    duplicates = [(m, a) for m, _, _, a in sends if a != 1]
    assert not duplicates, f"{len(duplicates)} messages reached the simulator more than once: {duplicates[:5]}"
    assert len(sends) == TOTAL
    by_phone = {p: (m, t) for m, p, t, _ in sends}
    expected = {phone(i): name(i) or "there" for i in range(TOTAL)}
    assert set(by_phone) == set(expected), "a contact was skipped"
    assert all(by_phone[p] == (campaign_message_id(cid, p), f"Hi {n}") for p, n in expected.items())
    assert contacts == {m: p for p, (m, _) in by_phone.items()}


def kill_after_a_send(proc: subprocess.Popen, db, org: str) -> None:
    """SIGKILL the session-pool the moment its simulator records a new batch of sends."""
    count = text("SELECT count(*) FROM session_pool.simulator_sends WHERE org_id = :o")
    deadline = time.monotonic() + 30
    with db.connect() as conn:
        before = conn.execute(count, {"o": org}).scalar_one()
        while conn.execute(count, {"o": org}).scalar_one() == before:
            assert time.monotonic() < deadline, "the session-pool sent nothing for 30 s"
            conn.commit()  # a fresh snapshot each time
    sigkill(proc)


async def held_commands(js, org: str) -> set[str]:
    """The ids of the organization's send commands still in the (work-queue) stream: not acked."""
    ids, seq, subject = set(), 1, f"sb.cmd.{org}.message.send"
    while True:
        try:
            msg = await js.get_msg(streams.COMMANDS.name, seq=seq, subject=subject, next=True)
        except nats.js.errors.NotFoundError:
            return ids
        ids.add(CloudEvent.from_json_bytes(msg.data).id)
        seq = msg.seq + 1


def counts_sent(counts: dict[str, int]) -> int:
    return sum(counts.get(s, 0) for s in ("sent", "delivered", "read"))
