"""ERP order notifications benchmark, on a freshly started embedded NATS and PostgreSQL, the conversations
service a process of its own (as `make run` starts it, `python -m switchboard_conversations.main`):

setup, through the service's real paths: a meta-cloud sender (`sender.registered` with a `waba_id`, as the
session-pool publishes it), a template made through `POST /v1/templates` and approved by Meta's
`template.status_changed` (as webhook-ingest publishes it), a rule `POST /v1/notification-rules`
(`order.shipped` → `order_shipped`, the customer's name and the order id as its values);

(a) baseline: a bare consume-then-publish round trip on the same NATS (as `make bench-flows` (a)) — a
    pull consumer of the kind the services use takes each message (an ERP event's JSON) from a
    JetStream stream and publishes it on another stream (awaiting the PubAck, then acking), with no
    logic between; EVENTS messages published pipelined (the burst: throughput and latency), then RATE
    messages/s for SECONDS (latency under a steady load); timed from the publish to the republished
    message on a core subscription;
(b) EVENTS ERP `order.shipped` events (each a new order and a new customer), CloudEvents JSON published
    with a plain nats-py `js.publish` on `erp.evt.<org>.order.shipped` as an ERP would, pipelined
    (CHUNK publishes in flight), timed from each publish to its send command on `sb.cmd.<org>.message.send`
    (a core subscription: what the command outbox publishes; matched by its `Nats-Msg-Id`, the
    notification's message id). Throughput = events / (last command − first publish). Then RATE events/s
    for SECONDS. The service's CPU seconds (/proc/<pid>/stat) per event — until the last command, and
    until the service is idle again (the conversations, history and outcome events each message also
    causes) — and its RSS.

Every number is measured in this run; the ratios (b)/(a) of throughput and p99 are reported.
`BENCH_NOTIFICATIONS_EVENTS` (10000), `BENCH_NOTIFICATIONS_RATE` (500), `BENCH_NOTIFICATIONS_SECONDS`
(10), `BENCH_NOTIFICATIONS_PROFILE` (a file: py-spy samples the service for 10 s from the start of the
burst, raw collapsed stacks, and from the start of the paced run into the file + `.paced`). Results in bench/results/notifications.json."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats

from switchboard_contracts import sender as sender_contract, template as template_contract
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_contracts.notification import notification_message_id
from switchboard_contracts.streams import ConsumerSpec, StreamSpec
from switchboard_devkit.nats_server import NatsServer
from switchboard_devkit.postgres_server import PostgresServer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_ports
from switchboard_devkit.testing.processes import ready, start, stop
from switchboard_runtime.http.internal_auth import TOKEN_HEADER, Caller, internal_token
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.consumer import BatchConsumer
from switchboard_runtime.messaging.declare import ensure_stream

from .campaign import process_rss
from .flows import paced, percentiles, process_cpu, profile
from .report import print_table, write_result

EVENTS = int(os.environ.get("BENCH_NOTIFICATIONS_EVENTS", "10000"))
RATE = int(os.environ.get("BENCH_NOTIFICATIONS_RATE", "500"))
SECONDS = float(os.environ.get("BENCH_NOTIFICATIONS_SECONDS", "10"))
PROFILE = os.environ.get("BENCH_NOTIFICATIONS_PROFILE")
CHUNK = 500  # publishes in flight at once (awaited together), as an ERP pipelining its publishes
QUIET = 20.0  # a drain gives up after this long without a new answer …
DRAIN_CAP = 300.0  # … or this long in all
IDLE_SAMPLE = 3.0  # seconds the idle service's CPU is sampled
WARMUP = 20  # events before the timed runs: the first of an organization reads its rules and template
MODULE = "switchboard_conversations.main"
SOURCE = "erp/orders"
WABA = "waba-bench"
TEMPLATE = {"name": "order_shipped", "language": "en_US", "category": "UTILITY", "components": [
    {"type": "BODY", "text": "Hi {{1}}, order {{2}} has shipped.", "example": {"body_text": [["Ana", "A-1"]]}}]}
RULE = {"event": "order.shipped", "template": {"name": "order_shipped", "languages": {"en": "en_US"},
                                               "fallback": "en_US"},
        "parameters": {"1": "data.customer_name", "2": "data.order_id"}}


class Timed:
    """Send times by key, and the latency of each answer; the first send and the last answer."""

    def __init__(self):
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.published = 0
        self.unmatched = 0  # answers to nothing sent (a repeat, another run's)
        self.first: float | None = None
        self.last: float | None = None

    def sent(self, key: str) -> None:
        now = time.perf_counter()
        self.sent_at[key] = now
        self.published += 1
        if self.first is None:
            self.first = now

    def arrived(self, key: str | None) -> None:
        started = self.sent_at.pop(key, None) if key is not None else None
        if started is None:
            self.unmatched += 1
            return
        self.last = time.perf_counter()
        self.latencies.append(self.last - started)

    def summary(self) -> dict:
        span = (self.last - self.first) if self.first is not None and self.last is not None else None
        return {"published": self.published, "answered": len(self.latencies), "unmatched": self.unmatched,
                "seconds": round(span, 3) if span else None,
                "per_second": round(len(self.latencies) / span, 1) if span else None,
                **percentiles(self.latencies)}


async def pipelined(publish, count: int) -> float:
    """`publish(i)` for i < count, CHUNK at a time in flight; the seconds until the last was acked."""
    began = time.perf_counter()
    for first in range(0, count, CHUNK):
        await asyncio.gather(*(publish(i) for i in range(first, min(first + CHUNK, count))))
    return time.perf_counter() - began


async def drain(timed: Timed) -> None:
    """Until every answer is in, QUIET seconds pass without one, or DRAIN_CAP in all."""
    began = progress_at = time.monotonic()
    seen = len(timed.latencies)
    while timed.sent_at:
        now = time.monotonic()
        if len(timed.latencies) != seen:
            seen, progress_at = len(timed.latencies), now
        if now - progress_at > QUIET or now - began > DRAIN_CAP:
            return
        await asyncio.sleep(0.05)


async def settle(pid: int | None, timeout: float = 120.0) -> float:
    """Until the service uses less than a tenth of a core over a second (its follow-on work done); seconds."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        before = process_cpu(pid)
        await asyncio.sleep(1.0)
        if process_cpu(pid) - before < 0.1:
            break
    return round(time.monotonic() - began, 1)


def erp_event(org: str, run: int, i: int) -> tuple[str, bytes, str]:
    """An `order.shipped` CloudEvent as the ERP publishes it, a new order and customer:
    (event id, body, the notification's message id)."""
    event_id = f"evt-{run}-{i}-{new_id()}"
    body = json.dumps({
        "specversion": "1.0", "id": event_id, "source": SOURCE, "type": "com.acme.order.shipped",
        "time": datetime.now(UTC).isoformat(), "datacontenttype": "application/json",
        "data": {"order_id": f"B{run}-{i:06d}", "customer_phone": f"+49151{run}{i:07d}",
                 "customer_name": f"Customer {i}", "locale": "en"}}).encode()
    return event_id, body, notification_message_id(org, SOURCE, event_id)


async def round_trips(nats_url: str, sample: bytes) -> tuple[dict, dict]:
    """(a): the same pull consumer the services use, handing each message straight on; burst, then paced."""
    nc = await nats.connect(nats_url)
    js = BusJetStream(nc)
    for name, subject in (("BENCH_RT_IN", "bench.rt.in.>"), ("BENCH_RT_OUT", "bench.rt.out.>")):
        await ensure_stream(js, StreamSpec(name=name, subjects=[subject]))

    async def hand_on(deliveries):
        await asyncio.gather(*(js.publish("bench.rt.out." + d.subject.rsplit(".", 1)[1], d.data)
                               for d in deliveries))

    consumer = BatchConsumer(js, ConsumerSpec(stream="BENCH_RT_IN", durable="bench_rt",
                                              filter_subjects=["bench.rt.in.>"], ack_wait_seconds=30.0),
                             hand_on, batch_size=256)
    await consumer.start()
    results = []
    for kind in ("b", "p"):
        timed = Timed()
        async def arrived(m, timed=timed) -> None:
            timed.arrived(m.subject.rsplit(".", 1)[1])

        sub = await nc.subscribe("bench.rt.out.>", cb=arrived)

        async def publish(i: int, kind=kind, timed=timed) -> None:
            timed.sent(f"{kind}{i}")
            await js.publish(f"bench.rt.in.{kind}{i}", sample)

        if kind == "b":
            publish_seconds = await pipelined(publish, EVENTS)
        else:
            publish_seconds = None
            await paced(publish, RATE, SECONDS)
        await drain(timed)
        await sub.unsubscribe()
        results.append({**timed.summary(), "publish_seconds": publish_seconds and round(publish_seconds, 3)})
    await consumer.stop()
    await nc.close()
    return results[0], results[1]


async def eventually(call, predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await call()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"setup: {what} (last: {getattr(value, 'status_code', '')} "
                             f"{getattr(value, 'text', value)!s:.300})")
        await asyncio.sleep(0.2)


async def setup(js, http: httpx.AsyncClient, org: str, headers: dict) -> str:
    """A meta-cloud sender, its template made and approved, the rule: as they come in production."""
    sender = new_id()
    registered = make_envelope(id=new_id(), source="session-pool", type=sender_contract.REGISTERED, orgid=org,
                               data=sender_contract.SenderRegistered(
                                   sender_id=sender, name="bench meta", provider="meta-cloud", quotas={},
                                   phone_number="+15550000000", phone_number_id="1555000", waba_id=WABA,
                                   registered_at=datetime.now(UTC)))
    await js.publish(f"sb.evt.{org}.sender.registered", registered.to_json_bytes(),
                     headers={"Nats-Msg-Id": registered.id})
    # the directory takes the sender in asynchronously: until then the template's sender is unknown
    made = await eventually(lambda: http.post("/v1/templates", json={"sender_id": sender, **TEMPLATE}, headers=headers),
                            lambda r: r.status_code == 201, "POST /v1/templates")
    template_id = made.json()["id"]
    approved = make_envelope(id=new_id(), source="webhook-ingest", type=template_contract.STATUS_CHANGED, orgid=org,
                             data=template_contract.TemplateStatusChanged(
                                 waba_id=WABA, message_template_id="9000001", message_template_name=TEMPLATE["name"],
                                 message_template_language=TEMPLATE["language"], event="APPROVED",
                                 at=datetime.now(UTC)))
    await js.publish(f"sb.evt.{org}.template.status_changed", approved.to_json_bytes(),
                     headers={"Nats-Msg-Id": approved.id})
    await eventually(lambda: http.get(f"/v1/templates/{template_id}", headers=headers),
                     lambda r: r.status_code == 200 and r.json()["status"] == "APPROVED", "template APPROVED")
    rule = await http.post("/v1/notification-rules", json={**RULE, "sender_id": sender}, headers=headers)
    if rule.status_code != 201:
        raise SystemExit(f"setup: POST /v1/notification-rules {rule.status_code} {rule.text}")
    return sender


async def notifications(nats_url: str, db_url: str) -> dict:
    """(b)."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    port = server_ports(1)[0]
    proc = start(MODULE, nats_url, db_url, SWITCHBOARD_CONVERSATIONS_PORT=str(port),
                 SWITCHBOARD_LOG_FORMAT="console")
    try:
        await ready(js, proc, "conversations")
        org = new_id()
        headers = {TOKEN_HEADER: internal_token(TEST_SECRET_KEY), **Caller(org, "api_key", "key-1", "admin").headers()}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await setup(js, http, org, headers)
        timed: Timed = Timed()

        async def command(m) -> None:
            mid = (m.headers or {}).get("Nats-Msg-Id") or json.loads(m.data).get("id")
            timed.arrived(mid)

        sub = await nc.subscribe(f"sb.cmd.{org}.message.send", cb=command)

        async def run(number: int, count: int, how) -> tuple[Timed, float | None]:
            nonlocal timed
            timed = Timed()
            events = [erp_event(org, number, i) for i in range(count)]  # built before the clock starts

            async def publish(i: int) -> None:
                event_id, body, mid = events[i]
                timed.sent(mid)
                await js.publish(f"erp.evt.{org}.order.shipped", body, headers={"Nats-Msg-Id": event_id})

            seconds = await how(publish, count)
            await drain(timed)
            return timed, seconds

        warm, _ = await run(9, WARMUP, pipelined)
        if warm.sent_at:
            raise SystemExit(f"warm-up: {len(warm.sent_at)} of {WARMUP} events had no send command")
        _, _, pid = process_rss(MODULE)
        await settle(pid)
        idle_before = process_cpu(pid)
        await asyncio.sleep(IDLE_SAMPLE)
        idle_cores = (process_cpu(pid) - idle_before) / IDLE_SAMPLE  # its polls, with nothing to do

        rss_before, _, _ = process_rss(MODULE)
        cpu_before = process_cpu(pid)
        profiler = profile(pid, PROFILE)
        burst, publish_seconds = await run(1, EVENTS, pipelined)
        cpu_commands = process_cpu(pid) - cpu_before
        rss_burst, _, _ = process_rss(MODULE)
        settle_seconds = await settle(pid)
        cpu_all = process_cpu(pid) - cpu_before
        if profiler is not None:
            profiler.wait(timeout=60)

        cpu_before = process_cpu(pid)
        profiler = profile(pid, PROFILE and PROFILE + ".paced")
        steady, _ = await run(2, int(RATE * SECONDS), lambda publish, _: paced(publish, RATE, SECONDS))
        cpu_paced = process_cpu(pid) - cpu_before
        paced_settle = await settle(pid)
        cpu_paced_all = process_cpu(pid) - cpu_before
        if profiler is not None:
            profiler.wait(timeout=60)
        rss_after, peak, _ = process_rss(MODULE)
        await sub.unsubscribe()
    finally:
        await stop(proc)
        await nc.close()
    b, p = burst.summary(), steady.summary()
    return {
        "burst": {**b, "publish_seconds": round(publish_seconds, 3),
                  "cpu_seconds_to_last_command": round(cpu_commands, 2),
                  "cpu_ms_per_event_to_last_command": round(cpu_commands / EVENTS * 1000, 3),
                  "cpu_seconds_until_idle": round(cpu_all, 2), "idle_after_last_command_s": settle_seconds,
                  "cpu_ms_per_event": round(cpu_all / EVENTS * 1000, 3)},
        "paced": {**p, "rate_per_second": RATE, "seconds": SECONDS, "cpu_seconds": round(cpu_paced, 2),
                  "cpu_share_cores": round(cpu_paced / SECONDS, 2),
                  "cpu_ms_per_event": round(cpu_paced_all / max(p["published"], 1) * 1000, 3),
                  "idle_after_s": paced_settle},
        "idle_cpu_cores": round(idle_cores, 3),
        "rss_mb": {"before": round(rss_before, 1), "after_burst": round(rss_burst, 1), "end": round(rss_after, 1),
                   "peak": round(peak, 1)},
    }


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="switchboard-bench-notifications-"))
    os.chmod(root, 0o755)
    nats_server = NatsServer(root / "nats").start()
    postgres = PostgresServer(root / "pg", durable=True).start()
    try:
        sample = erp_event(new_id(), 0, 0)[1]
        base_burst, base_paced = await round_trips(nats_server.url, sample)
        got = await notifications(nats_server.url, postgres.url)
    finally:
        postgres.stop()
        nats_server.stop()
        shutil.rmtree(root, ignore_errors=True)
    burst, steady, rss = got["burst"], got["paced"], got["rss_mb"]
    params = {"events": EVENTS, "chunk_in_flight": CHUNK, "rate_per_second": RATE, "seconds": SECONDS,
              "cpus": os.cpu_count(), "baseline": {"burst": base_burst, "paced": base_paced}, **got,
              "p99_ratio_burst": ratio(burst["p99_ms"], base_burst["p99_ms"]),
              "p99_ratio_paced": ratio(steady["p99_ms"], base_paced["p99_ms"]),
              "all_answered": burst["answered"] == burst["published"] and steady["answered"] == steady["published"]}
    result = write_result("notifications", burst["per_second"] or 0.0, "events/s, ERP event → send command",
                          base_burst["per_second"] or 0.0, params)

    def lat(r: dict) -> str:
        return f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms ({r['answered']}/{r['published']})"

    print_table([
        (f"baseline: consume → publish, {EVENTS:,} pipelined", f"{base_burst['per_second']:,} msg/s; {lat(base_burst)}"),
        (f"baseline: consume → publish at {RATE}/s", lat(base_paced)),
        (f"notifications: {EVENTS:,} ERP events pipelined", f"{burst['per_second']:,} events/s "
                                                            f"(published in {burst['publish_seconds']} s)"),
        ("  event → send command", lat(burst)),
        (f"notifications: ERP events at {RATE}/s for {SECONDS:g} s", lat(steady)),
        ("ratio notifications / baseline (throughput)", f"{result['ratio']}"),
        ("ratio of p99 (burst; paced)", f"{params['p99_ratio_burst']}; {params['p99_ratio_paced']}"),
        ("target", "≥ 1,000 events/s, p99 ≤ 100 ms"),
        ("conversations CPU per event (burst)", f"{burst['cpu_ms_per_event_to_last_command']} ms to the last command, "
                                                f"{burst['cpu_ms_per_event']} ms until idle "
                                                f"(idle again within {burst['idle_after_last_command_s']} s)"),
        ("conversations CPU per event (paced)", f"{steady['cpu_ms_per_event']} ms "
                                                f"({steady['cpu_share_cores']} of a core at {RATE}/s)"),
        ("conversations CPU idle (its polls)", f"{got['idle_cpu_cores']} of a core"),
        ("conversations RSS", f"{rss['before']} MB before, {rss['after_burst']} MB after the burst, "
                              f"{rss['end']} MB at the end (peak {rss['peak']} MB)"),
        ("written", "bench/results/notifications.json"),
    ])
    if not params["all_answered"]:
        raise SystemExit(f"not every event got its send command: burst {burst['answered']}/{burst['published']}, "
                         f"paced {steady['answered']}/{steady['published']}")


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
