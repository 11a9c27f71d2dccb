"""1,000 executions of `message → delay 2 s → message` survive two SIGKILLs of the flows service, each
restarted: the first while executions are being started (some saved, their first message not yet
published), the second while their delays fall due. Every execution completes and the simulator's
record shows each contact got each of its two messages exactly once (one row per message id,
`attempts = 1`), under the executions' deterministic ids."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import nats
from sqlalchemy import create_engine, text

from switchboard_contracts import commands
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.processes import ready, sigkill, start, stop
from switchboard_devkit.testing.ports import server_ports
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, internal_token

TOTAL = 1000
DEADLINE = 150.0  # seconds for every execution to complete, kills and restarts included
FLOW = {"name": "two messages", "trigger": {"type": "api"},
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "first", "type": "message", "message": {"type": "text", "text": "First for {{contact.phone}}"}},
                  {"id": "pause", "type": "delay", "seconds": 2},
                  {"id": "second", "type": "message", "message": {"type": "text", "text": "Second"}},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "first"}, {"from": "first", "to": "pause", "exit": "sent"},
                  {"from": "first", "to": "end", "exit": "failed"}, {"from": "pause", "to": "second"},
                  {"from": "second", "to": "end", "exit": "sent"}, {"from": "second", "to": "end", "exit": "failed"}]}
COMPLETED = text("SELECT count(*) FROM flows.executions WHERE flow_id = :f AND status = 'completed'")
ENDED = text("SELECT status, count(*) FROM flows.executions WHERE flow_id = :f GROUP BY status")
SENDS = text("SELECT message_id, recipient, text, attempts FROM session_pool.simulator_sends WHERE org_id = :o")
WAITING = text("SELECT count(*) FROM flows.executions WHERE flow_id = :f AND waiting_for = 'delay'")


def phone(i: int) -> str:
    return f"+49152{i:07d}1"


async def start_all(http: httpx.AsyncClient, flow_id: str, org: str, sender: str, upto: int) -> None:
    """Start executions 0..upto-1 (each by its Idempotency-Key: a retry starts nothing new); a start the
    killed service did not answer is tried again until one answers."""
    headers = {ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)}
    slots = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with slots:
            for _ in range(200):  # bounded: the service is back within seconds
                try:
                    r = await http.post(f"/v1/flows/{flow_id}/executions", json={"to": phone(i), "sender_id": sender},
                                        headers={**headers, "Idempotency-Key": f"start-{i}"})
                    if r.status_code == 201:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            raise AssertionError(f"execution {i} was never started")

    await asyncio.gather(*(one(i) for i in range(upto)))


async def test_sigkill_flows_twice_mid_run_every_execution_completes_and_sends_each_message_once(
        nats_url, database_url):
    org, sender = new_id(), new_id()
    db = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    port = server_ports(1)[0]
    flows_env = {"SWITCHBOARD_FLOWS_PORT": str(port)}
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    pool = start("switchboard_session_pool.main", nats_url, database_url,
                 SWITCHBOARD_PAIR_INTERVAL_SECONDS="0.01")
    flows = start("switchboard_flows.main", nats_url, database_url, **flows_env)
    try:
        await ready(js, pool, "session-pool")
        await ready(js, flows, "flows")
        cmd = commands.RegisterSender(sender_id=sender, name="sim", provider="simulator")
        ce = make_envelope(id=new_id(), source="test", type=commands.REGISTER_SENDER, orgid=org, data=cmd)
        await js.publish(f"sb.cmd.{org}.sender.register", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            headers = {ORG_HEADER: org, TOKEN_HEADER: internal_token(TEST_SECRET_KEY)}
            flow_id = (await http.post("/v1/flows", json=FLOW, headers=headers)).json()["id"]
            assert (await http.post(f"/v1/flows/{flow_id}/publish", headers=headers)).status_code == 200
            assert (await http.post(f"/v1/flows/{flow_id}/activate", headers=headers)).status_code == 200
            starting = asyncio.create_task(start_all(http, flow_id, org, sender, TOTAL))
            await asyncio.sleep(1.0)  # mid-start: some executions saved, some first messages in flight
            sigkill(flows)
            flows = start("switchboard_flows.main", nats_url, database_url, **flows_env)
            await ready(js, flows, "flows")
            await starting
            for _ in range(300):  # until delays fall due: executions waiting, some of them resuming
                with db.connect() as conn:
                    if conn.execute(WAITING, {"f": flow_id}).scalar_one() >= TOTAL // 4:
                        break
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.0)
            sigkill(flows)
            flows = start("switchboard_flows.main", nats_url, database_url, **flows_env)
            await ready(js, flows, "flows")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + DEADLINE
            while True:
                with db.connect() as conn:
                    done = conn.execute(COMPLETED, {"f": flow_id}).scalar_one()
                    statuses = dict(conn.execute(ENDED, {"f": flow_id}).all())
                if done == TOTAL:
                    break
                assert loop.time() < deadline, f"only {done} of {TOTAL} completed: {statuses}"
                await asyncio.sleep(0.5)
        with db.connect() as conn:
            sends = conn.execute(SENDS, {"o": org}).all()
        assert len(sends) == 2 * TOTAL, f"{len(sends)} sends for {TOTAL} executions"
        assert all(row.attempts == 1 for row in sends), [row for row in sends if row.attempts != 1][:5]
        by_contact = Counter(row.recipient for row in sends)
        assert set(by_contact.values()) == {2} and len(by_contact) == TOTAL
        texts = Counter(row.text for row in sends)
        assert texts["Second"] == TOTAL and sum(n for t, n in texts.items() if t.startswith("First for ")) == TOTAL
    finally:
        await stop(flows)
        await stop(pool)
        await nc.close()
        db.dispose()
