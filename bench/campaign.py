"""Campaign benchmark, with every service running as `make run` runs them (the dev supervisor with
its embedded NATS and PostgreSQL, in a temporary directory, on free ports).

(a) baseline: the raw JetStream pipelined publish+consume rate on the same NATS, now (as `make bench`);
(b) a 100,000-contact campaign (CSV upload through the gateway, simulator senders with quotas lifted)
    from `start` until every contact is `sent` in the campaign's statistics;
(b') after (b), until every durable consumer on the platform's streams has caught up (nothing pending
    or unacked): the history and every other consumer that lags behind the statistics, with the CPU
    until then — what a message really costs;
(c) the campaigns service's resident memory with a 1,000,000-contact campaign: imported (streamed CSV)
    and sending for a while, peak RSS (VmHWM) of the process.
With (b) and (b'), the CPU time each process spent (bench/cpu.py), per message; with (a), the CPU
of one baseline message (the bench's client and nats-server: a store, a delivery and an ack; read
around the whole baseline, so its setup — 50,000 payloads drawn, a stream made and deleted — is in it
too: ~0.12 s of ~4.5 s, ~3 % high); until (b'), a campaign message's JetStream traffic (messages
stored and deliveries made on every stream, in all and by stream and consumer) and the rows it
writes by table (`pg_stat_user_tables`).

`BENCH_CAMPAIGN_CONTACTS` (100000), `BENCH_MILLION_CONTACTS` (1000000; 0 skips c),
`BENCH_CAMPAIGN_SENDERS` (10). Results in bench/results/campaign.json."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import nats
from switchboard_devkit.platform import running_platform

from .cpu import cpu_seconds, spent
from .pipeline import BASELINE_MESSAGES, baseline
from .report import print_table, write_result

CONTACTS = int(os.environ.get("BENCH_CAMPAIGN_CONTACTS", "100000"))
MILLION = int(os.environ.get("BENCH_MILLION_CONTACTS", "1000000"))
SENDERS = int(os.environ.get("BENCH_CAMPAIGN_SENDERS", "10"))
TIMEOUT = 900


def csv_rows(n: int, prefix: int):
    """`n` valid, distinct German mobile numbers (none ends in 0000: the simulator fails those)."""
    yield b"phone,name,code\n"
    chunk = []
    for i in range(n):
        chunk.append(f"+49151{prefix}{i:06d}1,Name {i},C{i}\n")  # +49 151 + 8 digits
        if len(chunk) == 5000:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()


def process_rss(module: str) -> tuple[float, float, int | None]:
    """(current RSS MB, peak RSS MB, pid) of the process running `python -m module`."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if module.encode() not in cmdline:
                continue
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
        return int(fields.get("VmRSS", 0)) / 1024, int(fields.get("VmHWM", 0)) / 1024, int(pid)
    return 0.0, 0.0, None


def until(fn, predicate, timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out; last value {value}")
        time.sleep(every)


def campaign(c: httpx.Client, senders: list[str], contacts: int, prefix: int) -> tuple[str, dict]:
    cid = c.post("/v1/campaigns", json={"name": f"bench {contacts}", "sender_ids": senders,
                                        "text": "Hi {{name|there}}, your code is {{code}}"}).json()["id"]
    started = time.perf_counter()
    upload = c.post(f"/v1/campaigns/{cid}/contacts", content=csv_rows(contacts, prefix),
                    headers={"Content-Type": "text/csv"}, timeout=TIMEOUT)
    assert upload.status_code == 200, upload.text
    report = upload.json()
    assert report["accepted"] == contacts, {**report, "rejected": report["rejected"][:3]}
    return cid, {"import_seconds": round(time.perf_counter() - started, 2)}


async def _consumers(nats_url: str) -> list:
    """Every stream's info with the infos of its consumers, now."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        return [(stream, await js.consumers_info(stream.config.name)) for stream in await js.streams_info()]
    finally:
        await nc.close()


def _lagging(nats_url: str) -> dict[str, int]:
    """durable consumer → messages still pending or unacked, for those that have any."""
    return {ci.name: ci.num_pending + ci.num_ack_pending for _, infos in asyncio.run(_consumers(nats_url))
            for ci in infos if ci.config.durable_name and (ci.num_pending or ci.num_ack_pending)}


def _traffic(nats_url: str) -> dict[str, int]:
    """Messages ever stored, by stream, and deliveries ever made (redeliveries included), by
    "stream/consumer", over every stream and consumer so far."""
    state = asyncio.run(_consumers(nats_url))
    return {**{stream.config.name: stream.state.last_seq for stream, _ in state},
            **{f"{stream.config.name}/{ci.name}": ci.delivered.consumer_seq or 0
               for stream, infos in state for ci in infos}}


def _traffic_per_message(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """What changed, per campaign message, the largest first (the streams and consumers that changed)."""
    changed = {k: (v - before.get(k, 0)) / CONTACTS for k, v in after.items()}
    return {k: round(v, 4) for k, v in sorted(changed.items(), key=lambda kv: -kv[1]) if v}


STATS_DELAY = 2.0  # seconds: PostgreSQL's backends report their table statistics at most once a second
ROW_WRITES = """SELECT schemaname || '.' || relname, n_tup_ins, n_tup_upd, n_tup_hot_upd
                FROM pg_stat_user_tables"""


async def _row_writes(db_url: str) -> dict[str, tuple[int, int, int]]:
    """table → (rows inserted, rows updated, of them heap-only) so far, from PostgreSQL's statistics."""
    conn = await asyncpg.connect(db_url.replace("+asyncpg", "", 1))
    try:
        return {name: (ins, upd, hot) for name, ins, upd, hot in await conn.fetch(ROW_WRITES)}
    finally:
        await conn.close()


def _writes_per_message(before: dict, after: dict) -> dict[str, list[float]]:
    """The tables a campaign message writes to at least once in ten: [inserts, updates, heap-only] each."""
    spent_rows = {t: [round((a - b) / CONTACTS, 2) for a, b in zip(after[t], before.get(t, (0, 0, 0)))]
                  for t in after}
    return {t: v for t, v in sorted(spent_rows.items(), key=lambda kv: -sum(kv[1][:2])) if v[0] + v[1] >= 0.1}


def _baseline(nats_url: str, root: int) -> tuple[float, float]:
    """(the baseline's msg/s, its CPU seconds per message: this process as its client + nats-server)."""
    client, server = time.process_time(), cpu_seconds(root).get("nats", 0.0)
    rate = asyncio.run(baseline(nats_url))
    spent_cpu = time.process_time() - client + cpu_seconds(root).get("nats", 0.0) - server
    return rate, spent_cpu / BASELINE_MESSAGES


def _per_message(cpu: dict[str, float]) -> str:
    """CPU seconds by process → "name ms-per-message, …", the largest first."""
    return ", ".join(f"{k} {v * 1000 / CONTACTS:.2f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))


def _traffic_line(traffic: dict[str, float]) -> str:
    stored = sum(v for k, v in traffic.items() if "/" not in k)
    return f"{stored:.2f} stored, {sum(v for k, v in traffic.items() if '/' in k):.2f} deliveries"


def _registered(c: httpx.Client, name: str) -> str:
    r = c.post("/v1/senders", json={"name": name, "provider": "simulator"})
    if r.status_code != 201:
        raise SystemExit(f"registering a sender failed: {r.status_code} {r.text}")
    return r.json()["id"]


def _million(c: httpx.Client, senders: list[str]) -> dict:
    """(c): a 1,000,000-contact campaign imported, then sending for 20 s; the campaigns service's RSS."""
    mid, imported = campaign(c, senders, MILLION, 2)
    _, peak_import, _ = process_rss("switchboard_campaigns.main")
    c.post(f"/v1/campaigns/{mid}/start")
    time.sleep(20)
    rss, peak, _ = process_rss("switchboard_campaigns.main")
    sent = c.get(f"/v1/campaigns/{mid}").json()["stats"]["sent"]
    c.post(f"/v1/campaigns/{mid}/cancel")
    return {"million_import_seconds": imported["import_seconds"],
            "million_peak_rss_after_import_mb": round(peak_import, 1),
            "million_rss_mb": round(rss, 1), "million_peak_rss_mb": round(peak, 1), "million_sent_in_20s": sent}


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="switchboard-bench-campaign-"))
    os.chmod(root, 0o755)
    try:
        with running_platform(root, {"SWITCHBOARD_LOG_LEVEL": "WARNING"}, timeout=120) as platform:
            base_url, key = platform.base, platform.key
            nats_url = platform.endpoints["nats"]
            base, base_cpu = _baseline(nats_url, platform.proc.pid)
            pg_markers = (str(platform.data / "pg"), str((platform.data / "pg").resolve()))
            with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=30) as c:
                senders = [_registered(c, f"bench{i}") for i in range(SENDERS)]
                cid, extra = campaign(c, senders, CONTACTS, 1)
                traffic_before = _traffic(nats_url)
                time.sleep(STATS_DELAY)  # the import's rows are the import's, not the campaign's
                rows_before = asyncio.run(_row_writes(platform.endpoints["database"]))
                cpu_before = cpu_seconds(platform.proc.pid, pg_markers)
                started = time.perf_counter()
                assert c.post(f"/v1/campaigns/{cid}/start").status_code == 200
                stats = until(lambda: c.get(f"/v1/campaigns/{cid}").json()["stats"],
                              lambda s: s["sent"] >= CONTACTS, TIMEOUT, 0.5)
                elapsed = time.perf_counter() - started
                cpu = spent(cpu_before, cpu_seconds(platform.proc.pid, pg_markers))
                lag = _lagging(nats_url)
                until(lambda: _lagging(nats_url), lambda behind: not behind, TIMEOUT, 0.1)
                drained = time.perf_counter() - started
                cpu_drained = spent(cpu_before, cpu_seconds(platform.proc.pid, pg_markers))
                traffic = _traffic_per_message(traffic_before, _traffic(nats_url))
                time.sleep(STATS_DELAY)
                writes = _writes_per_message(rows_before, asyncio.run(_row_writes(platform.endpoints["database"])))
                _, peak_100k, _ = process_rss("switchboard_campaigns.main")
                million = _million(c, senders) if MILLION else {}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    params = {"contacts": CONTACTS, "senders": SENDERS, "provider": "simulator", "quotas": "none",
              "seconds": round(elapsed, 2), "campaign_peak_rss_mb": round(peak_100k, 1),
              "final_stats": {k: stats[k] for k in ("total", "sent", "delivered", "read", "failed")},
              "cpus": os.cpu_count(), "cpu_seconds": cpu, "behind_when_sent": lag,
              "caught_up_seconds": round(drained, 2), "cpu_seconds_caught_up": cpu_drained,
              "baseline_cpu_ms_per_message": round(base_cpu * 1000, 4),
              "jetstream_per_message": traffic, "row_writes_per_message": writes, **extra, **million}
    result = write_result("campaign", CONTACTS / elapsed, "messages/s", base, params)
    _report(result, params)


def _report(result: dict, p: dict) -> None:
    cpu, drained, cpu_drained = p["cpu_seconds"], p["caught_up_seconds"], p["cpu_seconds_caught_up"]
    base_cpu = p["baseline_cpu_ms_per_message"] / 1000
    rows = [("baseline: JetStream publish+consume (512 B)", f"{result['baseline']:,.0f} msg/s"),
            (f"campaign: {CONTACTS:,} contacts, start → all sent",
             f"{result['value']:,.0f} msg/s ({p['seconds']:.1f} s)"),
            ("ratio campaign / baseline", f"{result['ratio']:.3f}"),
            (f"import of {CONTACTS:,} contacts (CSV through the gateway)", f"{p['import_seconds']} s"),
            (f"campaigns service peak RSS ({CONTACTS:,} contacts)", f"{p['campaign_peak_rss_mb']:,.0f} MB"),
            ("CPU per message, all processes", f"{sum(cpu.values()) * 1000 / CONTACTS:.2f} ms"),
            ("  by process", _per_message(cpu)),
            ("behind when all were sent (pending + unacked)", ", ".join(
                f"{k} {v:,}" for k, v in sorted(p["behind_when_sent"].items(), key=lambda kv: -kv[1])) or "none"),
            ("every consumer caught up", f"{drained:.1f} s ({CONTACTS / drained:,.0f} msg/s)"),
            ("CPU per message until then, all processes", f"{sum(cpu_drained.values()) * 1000 / CONTACTS:.2f} ms"),
            ("  by process", _per_message(cpu_drained)),
            ("JetStream per campaign message until then", _traffic_line(p["jetstream_per_message"])),
            ("  stored by stream (at least 0.01)", ", ".join(
                f"{k} {v:.2f}" for k, v in p["jetstream_per_message"].items() if "/" not in k and v >= 0.01)),
            ("  delivered by consumer (at least 0.01)", ", ".join(
                f"{k.split('/', 1)[1]} {v:.2f}" for k, v in p["jetstream_per_message"].items() if "/" in k and v >= 0.01)),
            ("rows written per campaign message (inserted / updated, of them heap-only)", "; ".join(
                f"{t} {i:g} / {u:g} ({h:g})" for t, (i, u, h) in p["row_writes_per_message"].items())),
            ("CPU of one baseline message (client + nats-server)", f"{base_cpu * 1000:.3f} ms"),
            ("CPU of a campaign message until caught up, in baseline messages",
             f"{sum(cpu_drained.values()) / CONTACTS / base_cpu:.1f}")]
    if "million_import_seconds" in p:
        rows += [(f"import of {MILLION:,} contacts", f"{p['million_import_seconds']} s"),
                 ("campaigns service peak RSS (1M, imported + 20 s sending)",
                  f"{p['million_peak_rss_mb']:,.0f} MB (target < 500 MB)")]
    rows += [("target", "≥ 1,000 msg/s end to end"), ("written", "bench/results/campaign.json")]
    print_table(rows)


if __name__ == "__main__":
    main()
