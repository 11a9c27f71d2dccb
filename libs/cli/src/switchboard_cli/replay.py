"""`switchboard events replay`: an organization's history, in order, to a JSON-lines file (each line
the exact stored bytes of one event) or to a webhook URL."""

from __future__ import annotations

import json
import sys
from contextlib import aclosing
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_contracts import streams as specs
from switchboard_runtime.messaging.history import StreamReader, org_history_batches, type_filters

from .progress import Counter, bar
from .webhook import WebhookSink


class Range:
    def __init__(self, since: datetime | None = None, from_seq: int | None = None, until: datetime | None = None,
                 types: list[str] | None = None):
        self.since, self.from_seq, self.until, self.types = since, from_seq, until, types or None


def one_line(data: bytes) -> bytes:
    """An event with raw newlines (not compact JSON) written as compact JSON on one line."""
    try:
        return json.dumps(json.loads(data), separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:
        return data.replace(b"\r", b"\\r").replace(b"\n", b"\\n")


async def replay_to_file(js: BusJetStream, org: str, rng: Range, out: Path | str, *,
                         show_progress: bool = True) -> tuple[Counter, int]:
    """Write the events; (what was written, how many had to be put on one line)."""
    counter, reshaped = Counter(), 0
    stdout = str(out) == "-"
    handle: BinaryIO = sys.stdout.buffer if stdout else open(out, "wb")  # noqa: SIM115
    progress = bar(f"replay {org}")
    task = progress.add_task(f"replay {org}", total=None, rate="")
    try:
        with progress if show_progress else _Quiet():
            # the reader's own batches (no StoredEvent, no datetime per event: only the bytes are written)
            reader = StreamReader(js, specs.EVENTS.name, type_filters(org, rng.types), start_seq=rng.from_seq,
                                  since=rng.since, until=rng.until, on_start=lambda n: progress.update(task, total=n))
            history = reader.batches()
            async with aclosing(history):
                async for events in history:
                    datas = [m.data for _, _, m in events]
                    chunk = b"\n".join(datas)
                    if chunk.count(b"\n") != len(datas) - 1:  # some event holds a raw newline
                        reshaped += sum(1 for d in datas if b"\n" in d)
                        chunk = b"\n".join([d if b"\n" not in d else one_line(d) for d in datas])
                    handle.write(chunk + b"\n")
                    counter.count += len(events)
                    progress.update(task, completed=counter.count, rate=f"{counter.rate:,.0f}/s")
            progress.update(task, total=counter.count, completed=counter.count)
    finally:
        if stdout:
            handle.flush()
        else:
            handle.close()
    return counter, reshaped


async def replay_to_webhook(js: BusJetStream, org: str, rng: Range, url: str, secret: str | None, *,
                            show_progress: bool = True, delays: tuple[float, ...] | None = None) -> Counter:
    """POST each event in order; raises DeliveryFailed (after its retries) naming the sequence."""
    counter = Counter()
    sink = WebhookSink(url, secret, **({"delays": delays} if delays is not None else {}))
    progress = bar(f"replay {org} → webhook")
    task = progress.add_task(f"replay {org} → webhook", total=None, rate="")
    try:
        with progress if show_progress else _Quiet():
            history = org_history_batches(js, org, since=rng.since, from_seq=rng.from_seq, until=rng.until,
                                          types=rng.types, batch=500, on_start=lambda n: progress.update(task, total=n))
            async with aclosing(history):
                async for events in history:
                    for e in events:
                        await sink.post(e.sequence, e.data)
                        counter.count += 1
                        if counter.count % 50 == 0:
                            progress.update(task, completed=counter.count, rate=f"{counter.rate:,.0f}/s")
            progress.update(task, total=counter.count, completed=counter.count)
    finally:
        await sink.close()
    return counter


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None
