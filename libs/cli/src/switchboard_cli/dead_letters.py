"""`switchboard events dead-letters list | replay`: what each consumer could not process, and giving
it back to that consumer (and no other) once the cause is fixed (switchboard_runtime.messaging.replays)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from rich.table import Table

from switchboard_contracts import streams as specs
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.history import StreamReader, stored_time
from switchboard_runtime.messaging.replays import DeadLetter, dead_letter_of, ensure_replays, give_back


def _filters(consumer: str | None) -> list[str]:
    if consumer is not None and (not consumer or any(c in consumer for c in " .*>")):
        raise ValueError(f"not a consumer name: {consumer!r}")
    return [f"sb.dlq.{consumer}" if consumer else "sb.dlq.>"]


async def dead_letters(js: BusJetStream, consumer: str | None = None) -> list[DeadLetter]:
    """The dead letters still kept, oldest first (all, or one consumer's)."""
    await js.stream_info(specs.DEAD_LETTERS.name)  # NotFoundError: no stream (nothing ever dead-lettered)
    letters: list[DeadLetter] = []
    async for batch in StreamReader(js, specs.DEAD_LETTERS.name, _filters(consumer), batch=1000).batches():
        letters.extend(dead_letter_of(seq, m.subject, stored_time(ns), m.data, m.headers) for seq, ns, m in batch)
    return letters


async def replay_dead_letters(js: BusJetStream, consumer: str | None = None,
                              sequences: Iterable[int] | None = None) -> list[DeadLetter]:
    """Give back the chosen dead letters (a consumer's, or these dead-letter sequences, or both: those of
    the consumer among them), each to its own consumer; returns what was given back."""
    wanted = set(sequences) if sequences else None
    if consumer is None and wanted is None:
        raise ValueError("name a consumer, or dead-letter sequences")
    chosen = [d for d in await dead_letters(js, consumer) if wanted is None or d.sequence in wanted]
    if chosen:
        await ensure_replays(js)
    for letter in chosen:
        await give_back(js, letter)
    return chosen


def _about(data: bytes) -> str:
    try:
        doc = json.loads(data)
        return f"{doc.get('orgid', '?')} {doc.get('type', '?')}"
    except (ValueError, AttributeError):
        return f"{len(data)} bytes, not JSON"


def table(letters: list[DeadLetter], title: str) -> Table:
    t = Table(title=title, show_lines=False)
    for name in ("seq", "consumer", "dead-lettered", "original subject", "orig. seq", "event", "reason"):
        t.add_column(name, overflow="fold")
    for d in letters:
        t.add_row(str(d.sequence), d.consumer, f"{d.time:%Y-%m-%d %H:%M:%S}", d.original_subject,
                  str(d.original_sequence or ""), _about(d.data), d.reason)
    return t
