"""Sending running campaigns: in each open sending window, take the next pending contacts, publish one
`message.send` command per contact — its message id deterministic per (campaign, phone), the Nats-Msg-Id
the same — and mark them queued, all in one transaction that first locks the campaign's `runs` row
(`FOR UPDATE SKIP LOCKED`: one replica sends a campaign's batch at a time, the others go on with other
campaigns). A pause or cancel updates that row, so it waits for a batch in progress and no batch starts
after it. The next contacts are the pending ones after `runs.taken_through`, the last seq a batch took
(set in the same transaction): the scan starts where the last batch ended, without an index of pending
contacts, so marking a contact queued changes no indexed column (a heap-only update). The cursor is only
where to start: every contact read is checked to be pending, and a contact that left `pending` meanwhile
(a status of a message published before a crash) is not marked. A crash between publish and commit
leaves the contacts pending and the cursor where it was: they are published again with the same ids,
which JetStream's duplicate window and the session-pool's claims drop — no contact is skipped or sent
twice.

Pacing: about one minute of what its senders may send under their quotas (`SenderDirectory.capacity`,
at least 20, at most `inflight`) waits in the session-pool at once (queued, no outcome yet), so a
campaign does not flood the command stream with messages that would only wait for quota; and with
`delay_ms`, one message per random delay per sender; a broadcast list's send goes in chunks (`chunk`:
`size` messages, then `pause_ms`).

A template the campaign's Meta senders' account defines (`TemplateUsage.definitions`, read once per batch)
is prepared per contact: the command carries Meta's components and the text the customer reads
(`rendered`); a contact whose values do not fill its variables fails alone (`template_parameters`), as one
whose message cannot be built (`invalid_content`: a variable it lacks)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import commands
from switchboard_contracts.envelope import encode_envelope
from switchboard_contracts.template_send import SendMismatch
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.publisher import Publisher

from .content import CampaignContent
from .counts import counts, fold
from .domain.schedule import DelayMs, next_delay
from .domain.template_definition import Definition
from .plan import ended, plan_of, started
from .sender_directory import SenderDirectory
from .tables import SCHEMA
from .template_usage import TemplateUsage

log = get_logger(__name__)
SOURCE = "switchboard/campaigns"

RUNS = text(f"SELECT campaign_id, org_id, status, spec FROM {SCHEMA}.runs WHERE status IN ('running', 'scheduled')")
LOCK_RUN = text(f"""SELECT status, taken_through FROM {SCHEMA}.runs WHERE campaign_id = :cid
                     FOR UPDATE SKIP LOCKED""")
TAKE = text(f"""
    SELECT c.seq, c.phone, c.name, c.variables, c.message_id, (b.phone IS NOT NULL) AS blocked
    FROM {SCHEMA}.contacts c
    LEFT JOIN {SCHEMA}.blocklist b ON b.org_id = :org AND b.phone = c.phone
    WHERE c.campaign_id = :cid AND c.seq > :after AND c.status = 'pending'  -- the primary key's order
    ORDER BY c.seq LIMIT :n""")
TAKEN = text(f"UPDATE {SCHEMA}.runs SET taken_through = :seq WHERE campaign_id = :cid")
MARK = text(f"""
    UPDATE {SCHEMA}.contacts AS c SET status = u.status, error_code = u.code, error_title = u.title,
        queued_at = CASE WHEN u.status = 'queued' THEN now() END,
        finished_at = CASE WHEN u.status = 'failed' THEN now() END
    FROM unnest(CAST(:seqs AS bigint[]), CAST(:statuses AS text[]), CAST(:codes AS text[]),
                CAST(:titles AS text[])) AS u(seq, status, code, title)
    WHERE c.campaign_id = :cid AND c.seq = u.seq AND c.status = 'pending'""")
EXPIRE = text(f"""UPDATE {SCHEMA}.contacts SET status = 'expired', finished_at = now()
                  WHERE campaign_id = :cid AND status = 'pending'""")
FOLD_EVERY = 1.0  # seconds between two folds of the count deltas (counts.py)

Transition = Callable[[str, str, str], Awaitable[None]]  # (org, campaign, "begin" | "complete")


class Runner:
    def __init__(self, engine: AsyncEngine, publisher: Publisher, transition: Transition,
                 directory: SenderDirectory, *, templates: TemplateUsage | None = None,
                 tick: float = 0.2, batch: int = 500, inflight: int = 2000, ttl_seconds: int | None = None,
                 rng: random.Random | None = None):
        self.engine, self.publisher, self.transition, self.directory = engine, publisher, transition, directory
        self.templates = templates  # the template definitions its messages are prepared with (None: as given)
        self.tick, self.batch, self.inflight, self.ttl = tick, batch, inflight, ttl_seconds
        self.rng = rng or random.Random()
        self.next_at: dict[str, float] = {}  # campaign → monotonic time its next message may go (delay, chunk pause)
        self.in_chunk: dict[str, int] = {}  # campaign → messages sent in its current chunk
        self.contents: dict[str, CampaignContent] = {}
        self._wake = asyncio.Event()
        self._folded = 0.0
        self._task: asyncio.Task | None = None

    def wake(self, campaign_ids: set[str] | None = None) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="campaign-runner")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            busy = False
            try:
                async with self.engine.connect() as conn:
                    runs = list(await conn.execute(RUNS))
                for run in runs:
                    busy |= await self._step(str(run.campaign_id), run.org_id, run.status, run.spec)
                await self._fold()
            except Exception as exc:  # noqa: BLE001 - database or NATS away for a moment: next tick
                log.warning("campaign runner step failed", error=repr(exc))
            if not busy:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.tick)
                except TimeoutError:
                    pass

    async def _step(self, cid: str, org: str, status: str, spec: dict) -> bool:
        """One campaign's turn; True when it sent a full batch (more may go at once)."""
        plan = plan_of(spec)
        now = datetime.now(UTC)
        if status == "scheduled":
            if started(plan, now):
                await self.transition(org, cid, "begin")
            return False
        counts = await self._counts(cid)
        if ended(plan, now):
            if counts.get("pending"):
                async with self.engine.begin() as conn:
                    await conn.execute(EXPIRE, {"cid": cid})
                counts = await self._counts(cid)
        if not counts.get("pending") and not counts.get("queued"):
            await self.transition(org, cid, "complete")
            return False
        if not counts.get("pending") or not plan.is_open(now):
            return False
        room = await self._inflight(org, spec) - counts.get("queued", 0)
        n = min(self.batch, room)
        if time.monotonic() < self.next_at.get(cid, 0.0):  # a delay or a chunk's pause is running
            return False
        delay = DelayMs(**spec["delay_ms"]) if spec.get("delay_ms") else None
        chunk = spec.get("chunk")
        if delay is not None:  # one message per random delay per sender
            n = min(n, max(len(spec["senders"].get("sender_ids") or []), 1))
        if chunk:  # a broadcast list's send: `size` messages, then a pause
            n = min(n, chunk["size"] - self.in_chunk.get(cid, 0))
        if n <= 0:
            return False
        sent = await self._send(cid, org, spec, n)
        if delay is not None and sent:
            self.next_at[cid] = time.monotonic() + next_delay(delay, self.rng)
        if chunk and sent:
            self.in_chunk[cid] = self.in_chunk.get(cid, 0) + sent
            if self.in_chunk[cid] >= chunk["size"]:
                self.in_chunk[cid] = 0
                self.next_at[cid] = max(self.next_at.get(cid, 0.0), time.monotonic() + chunk["pause_ms"] / 1000)
        return sent == self.batch

    async def _inflight(self, org: str, spec: dict) -> int:
        """How many of the campaign's commands may wait in the session-pool: about a minute of what its
        connected, unpaused senders may send under their quotas (at least 20), at most `inflight`."""
        per_minute = await self.directory.capacity(org, spec["senders"])
        if per_minute is None:
            return self.inflight
        return int(min(max(per_minute, 20), self.inflight))

    async def _counts(self, cid: str) -> dict[str, int]:
        async with self.engine.connect() as conn:
            return await counts(conn, cid)

    async def _fold(self) -> None:
        if time.monotonic() - self._folded >= FOLD_EVERY:
            self._folded = time.monotonic()
            async with self.engine.begin() as conn:
                await fold(conn)

    async def _send(self, cid: str, org: str, spec: dict, n: int) -> int:
        content = self.contents.get(cid)
        if content is None:
            content = self.contents[cid] = CampaignContent.from_spec(spec)
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            run = (await conn.execute(LOCK_RUN, {"cid": cid})).one_or_none()
            if run is None or run.status != "running":
                return 0  # paused or cancelled meanwhile, or another replica is sending its batch
            rows = list(await conn.execute(TAKE, {"cid": cid, "org": org, "n": n, "after": run.taken_through}))
            if not rows:
                return 0
            definition = await self._definition(org, spec, content, conn)
            envelopes, marks = [], []
            for r in rows:
                if r.blocked:  # blocklisted after import: checked again right before the send
                    marks.append((r.seq, "blocked", None, None))
                    continue
                mid = str(r.message_id)
                try:
                    cmd = commands.SendMessage(
                        message_id=mid, to=r.phone, client_ref=f"campaign:{cid}", requested_at=now,
                        ttl_seconds=self.ttl, **content.senders,
                        **content.render(r.phone, r.name, r.variables or {}, definition))
                except SendMismatch as exc:  # this contact's values do not fill the template's variables
                    marks.append((r.seq, "failed", "template_parameters", str(exc)[:300]))
                    continue
                except Exception as exc:  # noqa: BLE001 - this contact's message cannot be built: it fails alone
                    marks.append((r.seq, "failed", "invalid_content", str(exc)[:300]))
                    continue
                envelopes.append(encode_envelope(id=mid, source=SOURCE, type=commands.SEND_MESSAGE, orgid=org,
                                                 data=cmd, subject=mid, correlationid=cid, time=now))
                marks.append((r.seq, "queued", None, None))
            if envelopes:
                await self.publisher.publish_many(envelopes)
            seqs, statuses, codes, titles = (list(x) for x in zip(*marks, strict=True))
            await conn.execute(MARK, {"cid": cid, "seqs": seqs, "statuses": statuses, "codes": codes,
                                      "titles": titles})
            await conn.execute(TAKEN, {"cid": cid, "seq": rows[-1].seq})
        return len(rows)

    async def _definition(self, org: str, spec: dict, content: CampaignContent, conn) -> Definition | None:
        """The template's definition the batch's messages are prepared with: in the first (by id) of its Meta
        senders' accounts that knows it; None for other content, or a template none of them knows."""
        if self.templates is None or content.template is None:
            return None
        known = await self.templates.definitions(org, spec["content"], spec["senders"], conn)
        return known[0] if known else None
