"""Inbox benchmark (issue 14's targets), on a freshly started embedded NATS and PostgreSQL, the services
processes of their own (as `make run` starts them, `python -m switchboard_<name>.main`):

(1) the live stream: the gateway alone; an organization (`switchboard_gateway.cli create-org`);
    (a) baseline: one plain core NATS subscriber of `sb.live.<org>.>` (what the gateway's feed
        subscribes to), events published on `sb.evt.<org>.conversation.bench` into SWITCHBOARD_EVENTS
        (JetStream publish with ack, the send time `time.monotonic()` in the CloudEvent's data) at RATE/s
        for SECONDS, timed from the publish to the message;
    (b) CLIENTS SSE connections to `GET /v1/stream` (X-API-Key) held by CLIENT_PROCESSES processes of
        raw asyncio sockets; the same events at the same rate for the same time, timed per delivered
        frame and client (one clock: CLOCK_MONOTONIC is system-wide); every frame counted; the gateway's
        RSS before and with the clients, its CPU seconds while the events flow.
(2) the inbox's queries: CONVERSATIONS conversations and MESSAGES messages of one organization written
    straight into the conversations service's tables (INSERT … SELECT generate_series: statuses and
    priorities mixed, 30 % assigned among 50 agents, tags from a vocabulary of 100, texts from a Zipf
    word list; secondary indexes built after the load, then VACUUM ANALYZE), the conversations service
    started on them and called as the gateway calls it (its internal headers, as an agent user), one
    request at a time: list filters, a second page, full-text `q=`, each kind REQUESTS times
    (interleaved) after a warm-up; baseline: the same server's `GET /v1/inbox-settings` (the same
    authentication, a one-row read).

`BENCH_INBOX_PHASES` (`stream,queries`), `BENCH_INBOX_CLIENTS` (1000), `BENCH_INBOX_CLIENT_PROCESSES`
(2), `BENCH_INBOX_RATE` (100), `BENCH_INBOX_SECONDS` (30), `BENCH_INBOX_CONVERSATIONS` (100000),
`BENCH_INBOX_MESSAGES` (2000000), `BENCH_INBOX_REQUESTS` (200 per kind), `BENCH_INBOX_EXPLAIN` (1:
print EXPLAIN ANALYZE of one query of each kind), `BENCH_INBOX_PROFILE` (a file: py-spy samples the
gateway for 10 s from the first SSE event, collapsed stacks). Results in bench/results/inbox_stream.json and
bench/results/inbox_queries.json."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats
import psycopg
from pydantic import BaseModel

from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.nats_server import NatsServer
from switchboard_devkit.postgres_server import PostgresServer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_ports
from switchboard_devkit.testing.processes import ready, start, stop
from switchboard_runtime.http.internal_auth import TOKEN_HEADER, Caller, internal_token

from .flows import paced, percentiles, process_cpu, profile
from .report import print_table, write_result

PHASES = set(os.environ.get("BENCH_INBOX_PHASES", "stream,queries").split(","))
CLIENTS = int(os.environ.get("BENCH_INBOX_CLIENTS", "1000"))
CLIENT_PROCESSES = int(os.environ.get("BENCH_INBOX_CLIENT_PROCESSES", "2"))
RATE = int(os.environ.get("BENCH_INBOX_RATE", "100"))
SECONDS = float(os.environ.get("BENCH_INBOX_SECONDS", "30"))
CONVERSATIONS = int(os.environ.get("BENCH_INBOX_CONVERSATIONS", "100000"))
MESSAGES = int(os.environ.get("BENCH_INBOX_MESSAGES", "2000000"))
REQUESTS = int(os.environ.get("BENCH_INBOX_REQUESTS", "200"))
EXPLAIN = os.environ.get("BENCH_INBOX_EXPLAIN") == "1"
PROFILE = os.environ.get("BENCH_INBOX_PROFILE")  # a file: py-spy samples the gateway for 10 s of the events
WARMUP = 10  # requests of each kind before the timed ones
DRAIN = 10.0  # seconds to wait for the last frames after the last publish
OPENING = 50  # SSE connections being opened at once, per client process
BUCKET = 10_000  # latency histogram: 0.1 ms buckets …
BUCKETS = 100_000  # … up to 10 s (beyond: the last bucket; the max is kept exactly)
LIST_TARGET_MS, SEARCH_TARGET_MS, STREAM_TARGET_MS = 50.0, 200.0, 250.0
AGENTS, TEAMS, TAGS, VOCABULARY = 50, 5, 100, 5000
S = "conversations"  # the service's schema


# --- (1) the live stream ------------------------------------------------------------------------------

class BenchEvent(BaseModel):
    """The data of a conversation event, about the size of a real one, with its send time."""

    conversation_id: str
    status: str = "open"
    actor: dict
    sent: str = "__SENT__"  # replaced by the monotonic time of the publish, as a JSON number
    n: int


SENT_MARK = b'"__SENT__"'
SENT = re.compile(rb'"sent":([0-9.]+)')
FRAME = re.compile(rb'id: (\d+)\nevent: [^\n]*\ndata: [^\n]*?"sent":([0-9.]+)')


def event_body(org: str, n: int) -> tuple[bytes, str]:
    ce = make_envelope(id=new_id(), source="bench", type="switchboard.conversation.bench.v1", orgid=org,
                       data=BenchEvent(conversation_id=new_id(), actor={"type": "user", "id": new_id()}, n=n))
    return ce.to_json_bytes(), ce.id


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (BUCKETS + 1)
        self.n, self.max = 0, 0.0

    def add(self, seconds: float) -> None:
        b = int(seconds * BUCKET)
        self.counts[b if 0 <= b < BUCKETS else BUCKETS] += 1
        self.n += 1
        if seconds > self.max:
            self.max = seconds

    def merge(self, counts: list[int], n: int, max_: float) -> None:
        self.counts = [a + b for a, b in zip(self.counts, counts, strict=True)]
        self.n += n
        self.max = max(self.max, max_)

    def quantile_ms(self, q: float) -> float | None:
        if not self.n:
            return None
        want, seen = q * self.n, 0
        for b, c in enumerate(self.counts):
            seen += c
            if seen >= want:
                return round(min((b + 1) / BUCKET, self.max) * 1000, 2)  # the bucket's upper edge
        return round(self.max * 1000, 2)

    def summary(self) -> dict:
        return {"frames": self.n, "p50_ms": self.quantile_ms(0.5), "p99_ms": self.quantile_ms(0.99),
                "max_ms": round(self.max * 1000, 2) if self.n else None}


class SseClient(asyncio.Protocol):
    """One `GET /v1/stream` over a raw socket. The response is chunked; each chunk holds whole SSE
    messages (the gateway writes frames whole), so the frames are found in the raw bytes up to the
    last blank line, one clock reading per read."""

    def __init__(self, request: bytes, hist: Histogram):
        self.request, self.hist = request, hist
        self.buf, self.headers_done = b"", False
        self.count = self.repeats = 0
        self.last_id = 0
        self.opened = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buf = self.buf + data
        if not self.headers_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            status = buf[:buf.find(b"\r\n")]
            if b" 200 " not in status and not self.opened.done():
                self.opened.set_exception(RuntimeError(status.decode(errors="replace")))
            buf, self.headers_done = buf[end + 4:], True
        end = buf.rfind(b"\n\n")
        if end < 0:
            self.buf = buf
            return
        done, self.buf = buf[:end + 2], buf[end + 2:]
        if not self.opened.done() and b": connected\n\n" in done:
            self.opened.set_result(None)
        for m in FRAME.finditer(done):
            seq = int(m[1])
            if seq <= self.last_id:
                self.repeats += 1
            self.last_id = seq
            self.count += 1
            self.hist.add(now - float(m[2]))

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed before `: connected`"))


async def _hold_clients(port: int, key: str, n: int, pipe) -> None:
    loop = asyncio.get_running_loop()
    hist = Histogram()
    request = (f"GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    clients: list[SseClient] = []
    slots = asyncio.Semaphore(OPENING)

    async def open_one() -> None:
        async with slots:
            _, client = await loop.create_connection(lambda: SseClient(request, hist), "127.0.0.1", port)
            await asyncio.wait_for(client.opened, 30)
            clients.append(client)

    outcomes = await asyncio.gather(*(open_one() for _ in range(n)), return_exceptions=True)
    pipe.send(("ready", len(clients), [repr(o) for o in outcomes if isinstance(o, BaseException)][:3]))
    _, total, deadline = await loop.run_in_executor(None, pipe.recv)  # ("go", events, monotonic deadline)
    cpu = time.process_time()
    while time.monotonic() < deadline and any(c.count < total for c in clients):
        await asyncio.sleep(0.1)
    pipe.send(("done", {"clients": len(clients), "delivered": sum(c.count for c in clients),
                        "complete": sum(c.count == total for c in clients),
                        "repeats": sum(c.repeats for c in clients), "cpu_seconds": time.process_time() - cpu,
                        "counts": hist.counts, "n": hist.n, "max": hist.max}))
    for c in clients:
        if c.transport is not None:
            c.transport.close()


def client_process(port: int, key: str, n: int, pipe) -> None:
    """A process holding `n` SSE connections (spawned: a fresh interpreter, uvloop)."""
    with contextlib.suppress(ImportError):
        import uvloop
        uvloop.install()
    asyncio.run(_hold_clients(port, key, n, pipe))


def vm(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, MB."""
    fields = {line.split(":")[0]: int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
              if line.startswith(("VmRSS", "VmHWM"))}
    return {"rss_mb": round(fields["VmRSS"] / 1024, 1), "peak_mb": round(fields["VmHWM"] / 1024, 1)}


async def publish_events(js, org: str) -> int:
    async def publish(i: int) -> None:
        body, event_id = event_body(org, i)
        body = body.replace(SENT_MARK, b"%.6f" % time.monotonic())
        await js.publish(f"sb.evt.{org}.conversation.bench", body, headers={"Nats-Msg-Id": event_id})

    return await paced(publish, RATE, SECONDS)


async def plain_subscriber(nc, js, org: str) -> dict:
    """(1a)."""
    hist = Histogram()

    async def arrived(m) -> None:
        now = time.monotonic()
        if (found := SENT.search(m.data)) is not None:
            hist.add(now - float(found[1]))

    sub = await nc.subscribe(f"sb.live.{org}.>", cb=arrived)
    published = await publish_events(js, org)
    deadline = time.monotonic() + DRAIN
    while hist.n < published and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await sub.unsubscribe()
    return {"published": published, "received": hist.n, **hist.summary()}


def create_org(nats_url: str, db_url: str) -> tuple[str, str]:
    """An organization and its key, as an operator makes one (`switchboard_gateway.cli create-org`)."""
    env = {**os.environ, "SWITCHBOARD_NATS_URL": nats_url, "SWITCHBOARD_DATABASE_URL": db_url,
           "SWITCHBOARD_SECRET_KEY": TEST_SECRET_KEY, "SWITCHBOARD_LOG_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, "-m", "switchboard_gateway.cli", "create-org", "--name", "bench"],
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    import json
    created = json.loads(out.stdout.strip().splitlines()[-1])
    return created["org_id"], created["api_key"]


async def stream_phase(nats_url: str, db_url: str) -> dict:
    port = server_ports(1)[0]
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    gateway = start("switchboard_gateway.main", nats_url, db_url, SWITCHBOARD_GATEWAY_PORT=str(port))
    ctx = multiprocessing.get_context("spawn")
    children: list = []
    try:
        await ready(js, gateway, "gateway")
        org, key = create_org(nats_url, db_url)
        base = await plain_subscriber(nc, js, org)
        rss_before = vm(gateway.pid)
        pipes = []
        shares = [CLIENTS // CLIENT_PROCESSES + (i < CLIENTS % CLIENT_PROCESSES) for i in range(CLIENT_PROCESSES)]
        for share in shares:
            ours, theirs = ctx.Pipe()
            child = ctx.Process(target=client_process, args=(port, key, share, theirs), daemon=True)
            child.start()
            children.append(child)
            pipes.append(ours)
        loop = asyncio.get_running_loop()

        async def answer(pipe, timeout: float):
            if not await loop.run_in_executor(None, pipe.poll, timeout):
                raise TimeoutError("a client process did not answer")
            return pipe.recv()

        opened_at = time.perf_counter()
        readies = [await answer(p, 180) for p in pipes]
        connect_seconds = time.perf_counter() - opened_at
        connected = sum(r[1] for r in readies)
        if connected < CLIENTS:
            raise SystemExit(f"only {connected} of {CLIENTS} SSE clients connected: {[r[2] for r in readies]}")
        await asyncio.sleep(2)  # the connections settle
        rss_connected = vm(gateway.pid)
        total = int(RATE * SECONDS)
        deadline = time.monotonic() + 1 + SECONDS + DRAIN
        for p in pipes:
            p.send(("go", total, deadline))
        cpu_before, wall_before = process_cpu(gateway.pid), time.perf_counter()
        profiler = profile(gateway.pid, PROFILE)
        published = await publish_events(js, org)
        if profiler is not None:
            profiler.wait(timeout=60)
        rss_loaded = vm(gateway.pid)
        dones = [(await answer(p, DRAIN + 60))[1] for p in pipes]
        gateway_cpu = process_cpu(gateway.pid) - cpu_before
        wall = time.perf_counter() - wall_before
        rss_after = vm(gateway.pid)
        for child in children:
            child.join(timeout=30)
    finally:
        for child in children:
            if child.is_alive():
                os.kill(child.pid, 9)
                child.join(timeout=5)
        await stop(gateway)
        await nc.close()
    hist = Histogram()
    for d in dones:
        hist.merge(d["counts"], d["n"], d["max"])
    sse = {"clients": connected, "published": published, "expected": published * connected,
           "delivered": sum(d["delivered"] for d in dones), "clients_complete": sum(d["complete"] for d in dones),
           "repeats": sum(d["repeats"] for d in dones), **hist.summary(),
           "connect_seconds": round(connect_seconds, 1)}
    return {"baseline": base, "sse": sse, "gateway_rss_before_mb": rss_before["rss_mb"],
            "gateway_rss_connected_mb": rss_connected["rss_mb"], "gateway_rss_loaded_mb": rss_loaded["rss_mb"],
            "gateway_rss_after_mb": rss_after["rss_mb"], "gateway_peak_rss_mb": rss_after["peak_mb"],
            "gateway_cpu_seconds": round(gateway_cpu, 2), "gateway_cores": round(gateway_cpu / wall, 2),
            "client_cpu_seconds": round(sum(d["cpu_seconds"] for d in dones), 2), "seconds": round(wall, 1)}


# --- (2) the inbox's queries --------------------------------------------------------------------------

COMMON = ("hi", "hello", "my", "order", "the", "is", "please", "thanks", "when", "delivery", "i", "you",
          "it", "to", "a", "can", "refund", "where", "not", "yet", "arrived", "payment", "help", "package",
          "tracking", "number", "address", "change", "invoice", "cancel", "today", "tomorrow", "still",
          "waiting", "problem", "account", "card", "size", "return", "exchange", "price", "discount",
          "code", "store", "open", "shipping", "late", "damaged", "wrong", "item", "missing", "call", "me",
          "back", "good", "morning", "evening", "great", "ok", "yes")


def vocabulary() -> list[str]:
    """VOCABULARY words, the most frequent first (drawn Zipf-like: rank r with probability ~ 1/r)."""
    rng = random.Random(14)
    syllables = [c + v for c in "bcdfgklmnprstvz" for v in "aeiou"]
    words, seen = list(COMMON), set(COMMON)
    while len(words) < VOCABULARY:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


TAG_NAMES = [f"{topic}-{n}" for topic in ("billing", "shipping", "returns", "vip", "sales", "support", "bug",
                                          "feedback", "refund", "account") for n in range(10)]

LOAD = [
    # who the conversations name: agents, teams, senders
    f"""INSERT INTO {S}.directory_users (id, org_id, name, role)
        SELECT md5(%(org)s || ':u' || k)::uuid::text, %(org)s, 'Agent ' || k, 'agent'
        FROM generate_series(0, {AGENTS - 1}) k""",
    f"""INSERT INTO {S}.directory_teams (id, org_id, name)
        SELECT md5(%(org)s || ':t' || k)::uuid::text, %(org)s, 'Team ' || k FROM generate_series(0, {TEAMS - 1}) k""",
    f"""INSERT INTO {S}.directory_senders (id, org_id, provider)
        SELECT md5(%(org)s || ':s' || k)::uuid::text, %(org)s, 'meta' FROM generate_series(0, 2) k""",
    # each conversation's own draws
    """CREATE TEMP TABLE seed AS
       SELECT i, md5(%(org)s || ':c' || i)::uuid::text AS id, md5(%(org)s || ':s' || (i %% 3))::uuid::text AS sender_id,
              '+49151' || lpad(i::text, 7, '0') || '1' AS contact,
              now() - interval '2 minutes' - random() * interval '90 days' AS started,
              random() * interval '3 days' AS span, r1, r2, r3, r4, r5, r6, r7, r8
       FROM (SELECT i, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
                    random() AS r6, random() AS r7, random() AS r8
             FROM generate_series(0, %(n)s - 1) i) x""",
    "CREATE UNIQUE INDEX ON seed (i)",
    """ALTER TABLE seed ADD COLUMN status text, ADD COLUMN agent_id text, ADD COLUMN team_id text,
                       ADD COLUMN priority text, ADD COLUMN tags text[], ADD COLUMN sla text""",
    f"""UPDATE seed SET
          status = CASE WHEN r1 < .30 THEN 'open' WHEN r1 < .40 THEN 'pending' WHEN r1 < .45 THEN 'snoozed'
                        WHEN r1 < .65 THEN 'resolved' ELSE 'archived' END,
          agent_id = CASE WHEN r2 < .30 THEN md5(%(org)s || ':u' || floor(r2 / .30 * {AGENTS})::int)::uuid::text END,
          team_id = CASE WHEN r3 < .20 THEN md5(%(org)s || ':t' || floor(r3 / .20 * {TEAMS})::int)::uuid::text END,
          priority = CASE WHEN r4 < .50 THEN 'none' WHEN r4 < .65 THEN 'low' WHEN r4 < .80 THEN 'medium'
                          WHEN r4 < .95 THEN 'high' ELSE 'urgent' END,
          sla = CASE WHEN r5 < .06 THEN 'missed' WHEN r5 < .14 THEN 'active' WHEN r5 < .20 THEN 'hit' END""",
    # 0-3 tags each (40 % none), the popular ones more often
    f"""UPDATE seed SET tags = ARRAY(
          SELECT DISTINCT (CAST(%(tags)s AS text[]))[1 + floor({TAGS} * power(random(), 2))::int]
          FROM generate_series(1, CASE WHEN r6 < .4 THEN 0 WHEN r6 < .7 THEN 1 WHEN r6 < .9 THEN 2 ELSE 3 END
                                  + 0 * i) ORDER BY 1)""",
    # the messages: a conversation's share skewed (a few long ones), 55 % inbound, 3-14 words each
    f"""INSERT INTO {S}.conversation_messages (message_id, org_id, conversation_id, sender_id, contact, direction,
            type, text, provider_message_id, status, status_at, statuses, created_at, updated_at, from_number,
            to_number, agent_id)
        SELECT md5(%(org)s || ':m' || x.g)::uuid::text, %(org)s, x.cid, x.sender_id, x.contact, x.dir, 'text', x.txt,
               'wamid.bench.' || x.g, x.st, x.at::text, jsonb_build_array(jsonb_build_object('status', x.st, 'at', x.at)),
               x.at, x.at, CASE WHEN x.dir = 'inbound' THEN x.contact ELSE '+15550000000' END,
               CASE WHEN x.dir = 'inbound' THEN '+15550000000' ELSE x.contact END,
               CASE WHEN x.dir = 'outbound' THEN x.agent_id END
        FROM (SELECT y.g, y.dir, y.txt, CASE WHEN y.dir = 'inbound' THEN 'received' ELSE 'read' END AS st,
                     s.id AS cid, s.sender_id, s.contact, s.agent_id,
                     least(s.started + y.t * s.span, now() - interval '1 minute') AS at
              FROM (SELECT g, floor(%(n)s * power(random(), 1.5))::int AS i,
                           CASE WHEN random() < .55 THEN 'inbound' ELSE 'outbound' END AS dir, random() AS t,
                           (SELECT string_agg((CAST(%(words)s AS text[]))[floor(power({VOCABULARY}, random()))::int], ' ')
                            FROM generate_series(1, 3 + g %% 12)) AS txt
                    FROM generate_series(0, %(m)s - 1) g) y
              JOIN seed s ON s.i = y.i) x""",
]


def load_statements() -> list[str]:
    """LOAD, then what the conversations' rows derive from their messages."""
    return LOAD + [
        f"""CREATE TEMP TABLE agg AS
            SELECT conversation_id AS id, count(*) AS n, max(created_at) AS last_at,
                   max(created_at) FILTER (WHERE direction = 'inbound') AS last_in,
                   min(created_at) FILTER (WHERE direction = 'inbound') AS first_in,
                   max(created_at) FILTER (WHERE direction = 'outbound') AS last_out,
                   min(created_at) FILTER (WHERE direction = 'outbound') AS first_out
            FROM {S}.conversation_messages WHERE org_id = %(org)s GROUP BY conversation_id""",
        "CREATE UNIQUE INDEX ON agg (id)",
        f"""CREATE TEMP TABLE waits AS
            SELECT m.conversation_id AS id, min(m.created_at) AS since FROM {S}.conversation_messages m
            JOIN agg a ON a.id = m.conversation_id
            WHERE m.org_id = %(org)s AND m.direction = 'inbound' AND m.created_at > COALESCE(a.last_out, '-infinity')
            GROUP BY m.conversation_id""",
        f"""CREATE TEMP TABLE previews AS
            SELECT DISTINCT ON (conversation_id) conversation_id AS id, left(text, 100) AS preview
            FROM {S}.conversation_messages WHERE org_id = %(org)s ORDER BY conversation_id, created_at DESC""",
        f"""INSERT INTO {S}.conversations (id, org_id, sender_id, contact, contact_name, started_at, last_message_at,
                last_message_preview, message_count, status, agent_id, team_id, priority, tags, snoozed_until,
                resolved_at, version, waiting_since, first_reply_at, last_inbound_at, last_reply_at, first_inbound_at,
                sla_policy_id, sla_first_response_due, sla_next_at, sla_started_at, sla_missed)
            SELECT s.id, %(org)s, s.sender_id, s.contact, 'Customer ' || s.i, COALESCE(a.first_in, s.started),
                   COALESCE(a.last_at, s.started), p.preview, COALESCE(a.n, 0), s.status, s.agent_id, s.team_id,
                   s.priority, s.tags,
                   CASE WHEN s.status = 'snoozed' THEN now() + interval '1 day' + s.r5 * interval '13 days' END,
                   CASE WHEN s.status IN ('resolved', 'archived')
                        THEN least(now(), greatest(COALESCE(a.last_at, s.started), now() - interval '6 days')
                                          + s.r4 * interval '1 hour') END,
                   1 + floor(s.r1 * 8)::int,
                   CASE WHEN s.status IN ('open', 'pending') THEN w.since END, a.first_out, a.last_in, a.last_out,
                   a.first_in,
                   CASE WHEN s.sla IS NOT NULL THEN %(policy)s END,
                   CASE WHEN s.sla = 'active' THEN now() + interval '2 hours' + s.r2 * interval '8 hours' END,
                   CASE WHEN s.sla = 'active' THEN now() + interval '2 hours' + s.r2 * interval '8 hours' END,
                   CASE WHEN s.sla IS NOT NULL THEN a.first_in END, s.sla IS NOT DISTINCT FROM 'missed'
            FROM seed s LEFT JOIN agg a ON a.id = s.id LEFT JOIN waits w ON w.id = s.id
            LEFT JOIN previews p ON p.id = s.id""",
        # the reader (agent 0) has read 60 % of them: most up to the end
        f"""INSERT INTO {S}.conversation_reads (conversation_id, reader_id, read_at)
            SELECT c.id, %(reader)s, c.last_message_at - CASE WHEN s.r8 < .75 THEN interval '0'
                                                            ELSE s.r4 * interval '1 day' END
            FROM {S}.conversations c JOIN seed s ON s.id = c.id WHERE c.org_id = %(org)s AND s.r7 < .6""",
    ]


SECONDARY = f"""SELECT i.indexname, i.indexdef FROM pg_indexes i
                WHERE i.schemaname = '{S}' AND i.tablename IN ('conversations', 'conversation_messages')
                AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""


def load(db_url: str, org: str, reader: str, policy: str, words: list[str]) -> dict:
    """Write the organization's conversations and messages; secondary indexes dropped first and built
    again after (as a bulk load does), then VACUUM ANALYZE."""
    timings = {}
    params = {"org": org, "reader": reader, "policy": policy, "n": CONVERSATIONS, "m": MESSAGES,
              "words": words, "tags": TAG_NAMES}
    with psycopg.connect(db_url) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        indexes = conn.execute(SECONDARY).fetchall()
        began = time.perf_counter()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX {S}."{name}"')
        for sql in load_statements():
            conn.execute(sql, params if "%(" in sql else None)
        conn.commit()
        timings["rows_seconds"] = round(time.perf_counter() - began, 1)
        began = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        conn.commit()
        timings["indexes_seconds"] = round(time.perf_counter() - began, 1)
    with psycopg.connect(db_url, autocommit=True) as conn:
        began = time.perf_counter()
        for table in ("conversations", "conversation_messages", "conversation_reads", "directory_users"):
            conn.execute(f"VACUUM ANALYZE {S}.{table}")
        timings["vacuum_analyze_seconds"] = round(time.perf_counter() - began, 1)
        counts = conn.execute(f"""SELECT (SELECT count(*) FROM {S}.conversations WHERE org_id = %(org)s),
                                         (SELECT count(*) FROM {S}.conversation_messages WHERE org_id = %(org)s),
                                         pg_total_relation_size('{S}.conversation_messages'),
                                         pg_total_relation_size('{S}.conversations')""", {"org": org}).fetchone()
    return {**timings, "conversations": counts[0], "messages": counts[1],
            "messages_table_mb": round(counts[2] / 2**20), "conversations_table_mb": round(counts[3] / 2**20)}


def selectivity(db_url: str, org: str, words: list[str]) -> dict:
    """How many messages the searched words match: the fewest and most of a sample of each set."""
    rng = random.Random(3)
    out = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        for name, sample in (("common", words[1:20]), ("rare", rng.sample(words[2000:], 5))):
            counts = [conn.execute(f"""SELECT count(*) FROM {S}.conversation_messages WHERE org_id = %s
                                        AND to_tsvector('simple', coalesce(text, '')) @@ plainto_tsquery('simple', %s)""",
                                   (org, w)).fetchone()[0] for w in sample]
            out[name] = [min(counts), max(counts)]
    return out


def kinds(words: list[str], agents: list[str], reader: str) -> dict[str, tuple[str, object]]:
    """name → (path, params(rng)): "list" kinds have the 50 ms target, "search" kinds 200 ms."""
    L = "/v1/conversations"
    common, rare = words[1:20], words[2000:]
    return {
        "baseline: GET /v1/inbox-settings": ("/v1/inbox-settings", lambda r: {}),
        "list: no filter": (L, lambda r: {}),
        "list: status=open": (L, lambda r: {"status": "open"}),
        "list: assignee=<agent>": (L, lambda r: {"assignee": r.choice(agents)}),
        "list: assignee=none": (L, lambda r: {"assignee": "none"}),
        "list: tag=<tag>": (L, lambda r: {"tag": r.choice(TAG_NAMES)}),
        "list: priority=high": (L, lambda r: {"priority": "high"}),
        "list: unread=true": (L, lambda r: {"unread": "true"}),
        "list: order=waiting": (L, lambda r: {"order": "waiting"}),
        "list: sla=missed": (L, lambda r: {"sla": "missed"}),
        "list: open+unassigned+high": (L, lambda r: {"status": "open", "assignee": "none", "priority": "high"}),
        "list: open+me+unread": (L, lambda r: {"status": "open", "assignee": "me", "unread": "true"}),
        "list: open+tag": (L, lambda r: {"status": "open", "tag": r.choice(TAG_NAMES)}),
        "list: page 2 (cursor)": (L, lambda r: {"cursor": "?"}),  # the cursor of a first page, see below
        "search: q=<common word>": (L, lambda r: {"q": r.choice(common)}),
        "search: q=<rare word>": (L, lambda r: {"q": r.choice(rare)}),
        "search: q=<common>+status=open": (L, lambda r: {"q": r.choice(common), "status": "open"}),
    }


async def first_page_cursors(http: httpx.AsyncClient, headers: dict) -> list[dict]:
    """Page-2 requests: the cursors of first pages of a few lists."""
    out = []
    for params in ({}, {"status": "open"}, {"order": "waiting"}, {"assignee": "none"}):
        r = await http.get("/v1/conversations", params=params, headers=headers)
        r.raise_for_status()
        if r.json()["next_cursor"]:
            out.append({**params, "cursor": r.json()["next_cursor"]})
    return out


async def explain(db_url: str, org: str, reader: str, kinds_: dict, rng: random.Random) -> None:
    """EXPLAIN ANALYZE of one query of each kind, through the service's own query code."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    from switchboard_conversations.conversation_reads import ConversationReads, Filters

    engine = create_async_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    captured: list[tuple[str, dict]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        captured.append((statement, parameters))

    reads = ConversationReads(engine)
    for name, (path, make) in kinds_.items():
        if path != "/v1/conversations" or "cursor" in name:
            continue
        params = make(rng)
        fields = {k: v for k, v in params.items() if k != "cursor"}
        if fields.get("assignee") == "me":
            fields["assignee"] = reader
        if "unread" in fields:
            fields["unread"] = fields["unread"] == "true"
        captured.clear()
        await reads.page(org, reader, Filters(**fields), None, 50)
        statement, parameters = captured[-1]
        with psycopg.connect(db_url, autocommit=True) as conn:
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
        print(f"\n--- {name} {params}")
        print("\n".join(r[0] for r in plan))
    await engine.dispose()


async def queries_phase(nats_url: str, db_url: str) -> dict:
    org, words = new_id(), vocabulary()
    agents = [None] * AGENTS
    with psycopg.connect(db_url, autocommit=True) as conn:
        for k, (u,) in enumerate(conn.execute("SELECT md5(%s || ':u' || k)::uuid::text FROM generate_series(0, %s) k",
                                              (org, AGENTS - 1)).fetchall()):
            agents[k] = u
    reader = agents[0]
    headers = {TOKEN_HEADER: internal_token(TEST_SECRET_KEY), **Caller(org, "user", reader, "agent").headers()}
    admin = {TOKEN_HEADER: internal_token(TEST_SECRET_KEY), **Caller(org, "api_key", "key-bench", "admin").headers()}
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    port = server_ports(1)[0]
    env = {"SWITCHBOARD_CONVERSATIONS_PORT": str(port)}
    base_url = f"http://127.0.0.1:{port}"
    try:
        # once before the load: the schema (its migrations) and an SLA policy made through the API
        proc = start("switchboard_conversations.main", nats_url, db_url, **env)
        try:
            await ready(js, proc, "conversations")
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                r = await http.post("/v1/sla-policies", headers=admin,
                                    json={"name": "standard", "first_response_seconds": 3600})
                assert r.status_code == 201, r.text
                policy = r.json()["id"]
        finally:
            await stop(proc)
        loaded = await asyncio.to_thread(load, db_url, org, reader, policy, words)
        loaded["matches"] = await asyncio.to_thread(selectivity, db_url, org, words)
        proc = start("switchboard_conversations.main", nats_url, db_url, **env)
        try:
            await ready(js, proc, "conversations")
            rng = random.Random(7)
            kinds_ = kinds(words, agents, reader)
            if EXPLAIN:
                await explain(db_url, org, reader, kinds_, rng)
            timings: dict[str, list[float]] = {name: [] for name in kinds_}
            rows: dict[str, int] = dict.fromkeys(kinds_, 0)
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                cursors = await first_page_cursors(http, headers)
                schedule = [name for name in kinds_ for _ in range(WARMUP + REQUESTS)]
                rng.shuffle(schedule)
                seen: dict[str, int] = dict.fromkeys(kinds_, 0)
                began = time.perf_counter()
                for name in schedule:
                    path, make = kinds_[name]
                    params = rng.choice(cursors) if "cursor" in name else make(rng)
                    t0 = time.perf_counter()
                    r = await http.get(path, params=params, headers=headers)
                    elapsed = time.perf_counter() - t0
                    assert r.status_code == 200, (name, params, r.status_code, r.text[:300])
                    seen[name] += 1
                    if seen[name] > WARMUP:  # the first of each kind warm up
                        timings[name].append(elapsed)
                        rows[name] += len(r.json().get("items", ()))
                wall = time.perf_counter() - began
            rss = vm(proc.pid)
        finally:
            await stop(proc)
    finally:
        await nc.close()
    out = {}
    for name, values in timings.items():
        out[name] = {**percentiles(values), "requests": len(values),
                     "items_per_page": round(rows[name] / len(values), 1) if values else None}
    lists = [v for n, vs in timings.items() if n.startswith("list") for v in vs]
    searches = [v for n, vs in timings.items() if n.startswith("search") for v in vs]
    return {"load": loaded, "kinds": out, "list_overall": percentiles(lists), "search_overall": percentiles(searches),
            "through": "the conversations service directly, with the gateway's internal headers (an agent user)",
            "service_rss_mb": rss["rss_mb"], "seconds": round(wall, 1)}


# --- the report ---------------------------------------------------------------------------------------

def stream_rows(s: dict) -> list[tuple[str, str]]:
    b, e = s["baseline"], s["sse"]
    ratio = round(e["p99_ms"] / b["p99_ms"], 2) if e["p99_ms"] and b["p99_ms"] else None
    ok = e["p99_ms"] is not None and e["p99_ms"] <= STREAM_TARGET_MS and e["delivered"] == e["expected"]
    return [
        (f"baseline: core NATS subscriber of sb.live.<org>.> at {RATE}/s",
         f"p50 {b['p50_ms']} ms, p99 {b['p99_ms']} ms, max {b['max_ms']} ms ({b['received']}/{b['published']})"),
        (f"SSE: {e['clients']:,} clients of GET /v1/stream at {RATE}/s for {SECONDS:g} s",
         f"p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms, max {e['max_ms']} ms"),
        ("  frames delivered / expected", f"{e['delivered']:,} / {e['expected']:,} "
                                          f"({e['clients_complete']} clients complete, {e['repeats']} repeats)"),
        ("  ratio SSE / baseline (p99)", f"{ratio}"),
        ("  target p99 ≤ 250 ms, every frame", "met" if ok else "MISSED"),
        ("  gateway RSS: before / connected / loaded / after (peak)",
         f"{s['gateway_rss_before_mb']} / {s['gateway_rss_connected_mb']} / {s['gateway_rss_loaded_mb']} / "
         f"{s['gateway_rss_after_mb']} MB ({s['gateway_peak_rss_mb']} MB)"),
        ("  gateway CPU while the events flow", f"{s['gateway_cpu_seconds']} s ({s['gateway_cores']} cores)"),
        ("  client processes' CPU", f"{s['client_cpu_seconds']} s ({CLIENT_PROCESSES} processes; "
                                    f"{e['connect_seconds']} s to connect all)"),
    ]


def query_rows(q: dict) -> list[tuple[str, str]]:
    ld = q["load"]
    base = q["kinds"]["baseline: GET /v1/inbox-settings"]
    rows = [(f"loaded {ld['conversations']:,} conversations, {ld['messages']:,} messages (one org)",
             f"rows {ld['rows_seconds']} s, indexes {ld['indexes_seconds']} s, VACUUM ANALYZE "
             f"{ld['vacuum_analyze_seconds']} s; messages {ld['messages_table_mb']} MB"),
            ("  messages a searched word matches", f"common {ld['matches']['common'][0]:,}–{ld['matches']['common'][1]:,}, "
                                                   f"rare {ld['matches']['rare'][0]:,}–{ld['matches']['rare'][1]:,}")]
    for name, k in q["kinds"].items():
        target = "" if name.startswith("baseline") else (
            LIST_TARGET_MS if name.startswith("list") else SEARCH_TARGET_MS)
        verdict = "" if not target else (" ok" if k["p99_ms"] <= target else f" MISSED (≤ {target:g})")
        ratio = f", ×{k['p99_ms'] / base['p99_ms']:.1f}" if target else ""
        rows.append((name, f"p50 {k['p50_ms']} ms, p99 {k['p99_ms']} ms{ratio}{verdict} "
                           f"[{k['items_per_page']} items]"))
    lo, so = q["list_overall"], q["search_overall"]
    rows += [("list overall (target p99 ≤ 50 ms)", f"p50 {lo['p50_ms']} ms, p99 {lo['p99_ms']} ms"),
             ("search overall (target p99 ≤ 200 ms)", f"p50 {so['p50_ms']} ms, p99 {so['p99_ms']} ms"),
             ("  through", q["through"]), ("  conversations service RSS", f"{q['service_rss_mb']} MB")]
    return rows


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="switchboard-bench-inbox-"))
    os.chmod(root, 0o755)
    nats_server = NatsServer(root / "nats").start()
    postgres = PostgresServer(root / "pg", durable=True).start()
    stream = queries = None
    try:
        if "stream" in PHASES:
            stream = await stream_phase(nats_server.url, postgres.url)
        if "queries" in PHASES:
            queries = await queries_phase(nats_server.url, postgres.url)
    finally:
        postgres.stop()
        nats_server.stop()
        shutil.rmtree(root, ignore_errors=True)
    rows = []
    if stream:
        write_result("inbox_stream", stream["sse"]["p99_ms"] or 0.0, "ms p99, NATS publish → SSE frame",
                     stream["baseline"]["p99_ms"] or 0.0,
                     {"clients": CLIENTS, "client_processes": CLIENT_PROCESSES, "rate_per_second": RATE,
                      "seconds": SECONDS, "cpus": os.cpu_count(), **stream})
        rows += stream_rows(stream) + [("written", "bench/results/inbox_stream.json")]
    if queries:
        write_result("inbox_queries", queries["list_overall"]["p99_ms"] or 0.0,
                     "ms p99, GET /v1/conversations with filters",
                     queries["kinds"]["baseline: GET /v1/inbox-settings"]["p99_ms"] or 0.0,
                     {"conversations": CONVERSATIONS, "messages": MESSAGES, "requests_per_kind": REQUESTS,
                      "cpus": os.cpu_count(), **queries})
        rows += query_rows(queries) + [("written", "bench/results/inbox_queries.json")]
    print_table(rows)


if __name__ == "__main__":
    with contextlib.suppress(ImportError):
        import uvloop
        uvloop.install()
    asyncio.run(main())
