"""Live campaign statistics from `message.status`: each campaign message's status moves forward only
(a late `delivered` never undoes `read`; failed, expired and cancelled are final), with the time of each
step, the sender that sent it, its provider message id and the provider's error code. A status of a
message that is no campaign's matches no row.

Statuses naming our message id (the session-pool's; Meta's, through biz_opaque_callback_data) update
their contact by that id, and teach it its provider message id when they carry one (the session-pool's
`sent` does). Statuses naming only a provider message id (WAHA acks) are resolved to a contact by
(sender, provider message id) — within the batch, else in the table — and merged into the same update.
One that resolves to no contact (an ack ahead of its `sent`, or, mostly, another message's) waits in
`provider_statuses`; the update that teaches a contact that provider id takes the waiting rows in the
same statement and applies them in the same transaction. At most every SWEEP_SECONDS per process,
waiting rows a concurrent transaction left behind are applied and rows older than PENDING_TTL pruned.

Per batch: one UPDATE statement (the pick-up of waiting rows is inside it, and skipped when none wait);
one more when the batch has provider-only statuses, and again when statuses waited for a contact it
taught; two or three at a sweep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from time import monotonic
from uuid import UUID

from pydantic_core import from_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts import status_rule
from switchboard_runtime.messaging.consumer import BatchOutcome, Delivery

from .tables import SCHEMA

PENDING_TTL = timedelta(minutes=15)  # a provider-only status no contact claims within this is dropped
SWEEP_SECONDS = 60.0  # at most this often per process: apply left-behind waiting statuses, prune old ones
SWEEP_MARGIN = timedelta(seconds=60)  # a sweep also looks at rows from just before the previous one

# The shared status rule (`switchboard_contracts.status_rule`), with a contact's `pending` (not queued
# yet) below every message status; `played` is counted as `read`.
PENDING = {"pending": -1}
RANK = {**PENDING, **status_rule.RANK}
RANK_SQL = status_rule.rank_sql("c.status", below=PENDING)
KIND = {"sent": "sent", "delivered": "delivered", "read": "read"}  # else: finished

# The contacts it moves (their campaigns), then the waiting statuses of the provider ids it taught.
UPDATE = text(f"""
    WITH moved AS (
        UPDATE {SCHEMA}.contacts AS c SET
            status = CASE WHEN u.rank > {RANK_SQL} THEN u.status ELSE c.status END,
            sender_id = coalesce(u.sender, c.sender_id),
            provider_message_id = coalesce(c.provider_message_id, u.pmid),
            error_code = coalesce(u.code, c.error_code), error_title = coalesce(u.title, c.error_title),
            sent_at = coalesce(c.sent_at, u.sent_at), delivered_at = coalesce(c.delivered_at, u.delivered_at),
            read_at = coalesce(c.read_at, u.read_at), finished_at = coalesce(c.finished_at, u.finished_at)
        FROM unnest(CAST(:mids AS uuid[]), CAST(:pmids AS text[]), CAST(:statuses AS text[]),
                    CAST(:ranks AS int[]), CAST(:senders AS text[]), CAST(:codes AS text[]),
                    CAST(:titles AS text[]), CAST(:sent AS timestamptz[]), CAST(:delivered AS timestamptz[]),
                    CAST(:read AS timestamptz[]), CAST(:finished AS timestamptz[]))
             AS u(mid, pmid, status, rank, sender, code, title, sent_at, delivered_at, read_at, finished_at)
        WHERE c.message_id = u.mid AND (u.rank > {RANK_SQL} OR u.sent_at IS NOT NULL
            OR u.delivered_at IS NOT NULL OR u.read_at IS NOT NULL
            OR (u.pmid IS NOT NULL AND c.provider_message_id IS NULL))
        RETURNING c.campaign_id, c.message_id, c.sender_id, c.provider_message_id, u.pmid IS NOT NULL AS taught),
    waited AS (
        DELETE FROM {SCHEMA}.provider_statuses AS p USING moved AS m
        WHERE m.taught AND p.sender_id = m.sender_id AND p.provider_message_id = m.provider_message_id
          AND EXISTS (SELECT FROM {SCHEMA}.provider_statuses)  -- once per statement: none waiting, no probes
        RETURNING m.message_id, p.status, p.at, p.error_code, p.error_title)
    SELECT campaign_id, CAST(NULL AS uuid), CAST(NULL AS text), CAST(NULL AS timestamptz),
           CAST(NULL AS text), CAST(NULL AS text) FROM moved
    UNION ALL SELECT NULL, message_id, status, at, error_code, error_title FROM waited""")

# Provider-only statuses → the contacts that know their provider id; the others wait.
RESOLVE = text(f"""
    WITH p AS (
        SELECT p.*, c.message_id
        FROM unnest(CAST(:senders AS text[]), CAST(:pmids AS text[]), CAST(:statuses AS text[]),
                    CAST(:ats AS timestamptz[]), CAST(:codes AS text[]), CAST(:titles AS text[]))
             AS p(sender, pmid, status, at, code, title)
        LEFT JOIN {SCHEMA}.contacts AS c ON c.sender_id = p.sender AND c.provider_message_id = p.pmid
            AND c.provider_message_id IS NOT NULL),
    kept AS (
        INSERT INTO {SCHEMA}.provider_statuses (sender_id, provider_message_id, status, at, error_code, error_title)
        SELECT sender, pmid, status, at, code, title FROM p WHERE message_id IS NULL
        ON CONFLICT DO NOTHING)
    SELECT message_id, status, at, code, title FROM p WHERE message_id IS NOT NULL""")

# Waiting statuses whose contact learnt its provider id in a transaction that could not see them.
RECONCILE = text(f"""
    DELETE FROM {SCHEMA}.provider_statuses AS p USING {SCHEMA}.contacts AS c
    WHERE (CAST(:window AS interval) IS NULL OR p.received_at >= now() - CAST(:window AS interval))
      AND c.sender_id = p.sender_id AND c.provider_message_id = p.provider_message_id
      AND c.provider_message_id IS NOT NULL
    RETURNING c.message_id, p.status, p.at, p.error_code, p.error_title""")
PRUNE = text(f"DELETE FROM {SCHEMA}.provider_statuses WHERE received_at < now() - CAST(:keep AS interval)")


class _Merged:
    __slots__ = ("status", "rank", "sender", "pmid", "code", "title", "at")

    def __init__(self) -> None:
        self.status, self.rank, self.sender, self.pmid, self.code, self.title = "queued", RANK["pending"], None, None, None, None
        self.at: dict[str, datetime] = {}

    def add(self, status: str, at: datetime, code: str | None, title: str | None) -> None:
        if RANK[status] > self.rank:
            self.status, self.rank = status, RANK[status]
        if code is not None:
            self.code, self.title = code, title
        if status != "queued":
            kind = KIND.get(status, "finished")
            self.at[kind] = min(self.at.get(kind, at), at)


def _merge_rows(rows, into: dict[str, _Merged] | None = None) -> dict[str, _Merged]:
    """(message id, status, at, code, title) rows → merged per message id."""
    merged = {} if into is None else into
    for mid, status, at, code, title in rows:
        merged.setdefault(str(mid), _Merged()).add(status, at, code, title)
    return merged


class StatusUpdates:
    def __init__(self, engine: AsyncEngine, on_progress: Callable[[set[str]], None] = lambda ids: None, *,
                 keep_pending: timedelta = PENDING_TTL, sweep_every: float = SWEEP_SECONDS):
        self.engine = engine
        self.on_progress = on_progress  # told which campaigns moved (the runner checks completion)
        self.keep_pending, self.sweep_every = keep_pending, sweep_every
        self._swept: float | None = None  # monotonic time of this process's last sweep

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        merged: dict[str, _Merged] = {}
        orphans: dict[tuple[str, str, str], tuple[datetime, str | None, str | None]] = {}
        for d in deliveries:
            try:  # a light read (every status of every message passes here): JSON, not the models
                data = from_json(d.data)["data"]  # pydantic-core's parser: twice json.loads' speed
                mid, status = data.get("message_id"), status_rule.counted_as(data["status"])
                if status not in RANK:
                    continue  # not one we track
                pmid, sender = data.get("provider_message_id") or None, data.get("sender_id") or None
                if not mid and not (pmid and sender and status != "queued"):
                    continue  # names no message we could match
                mid = mid and str(UUID(mid))
                at = datetime.fromisoformat(data["timestamp"])
                error = data.get("error") or None
                code, title = (None, None) if error is None else (str(error.get("code")), error.get("title"))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                outcome.reject(d, f"invalid message status: {exc!r}")
                continue
            if status == "failed" and code == "campaign_cancelled":
                status = "cancelled"  # dropped by the session-pool because its campaign was cancelled
            if mid:
                m = merged.setdefault(mid, _Merged())
                m.add(status, at, code, title)
                m.sender, m.pmid = m.sender or sender, m.pmid or pmid
            elif (key := (sender, pmid, status)) not in orphans or at < orphans[key][0]:
                orphans[key] = (at, code, title)
        if orphans:  # provider-only statuses of messages this batch names by both ids
            known = {(m.sender, m.pmid): mid for mid, m in merged.items() if m.pmid}
            for key in [k for k in orphans if (k[0], k[1]) in known]:
                merged[known[key[:2]]].add(key[2], *orphans.pop(key))
        sweep = self._swept is None or monotonic() - self._swept >= self.sweep_every
        if not (merged or orphans or sweep):
            return outcome
        async with self.engine.begin() as conn:
            if orphans:
                keys, values = list(orphans), list(orphans.values())
                _merge_rows(await conn.execute(RESOLVE, {
                    "senders": [k[0] for k in keys], "pmids": [k[1] for k in keys],
                    "statuses": [k[2] for k in keys], "ats": [v[0] for v in values],
                    "codes": [v[1] for v in values], "titles": [v[2] for v in values]}), merged)
            campaigns = await self._update(conn, merged)
            if sweep:
                campaigns |= await self._sweep(conn)
        if sweep:
            self._swept = monotonic()
        if merged or campaigns:
            self.on_progress(campaigns)
        return outcome

    async def _update(self, conn: AsyncConnection, merged: dict[str, _Merged]) -> set[str]:
        """Apply the merged statuses, then the statuses that waited for the provider ids they taught."""
        campaigns: set[str] = set()
        while merged:
            ids, rows = list(merged), list(merged.values())
            result = await conn.execute(UPDATE, {
                "mids": ids, "pmids": [r.pmid for r in rows], "statuses": [r.status for r in rows],
                "ranks": [r.rank for r in rows], "senders": [r.sender for r in rows],
                "codes": [r.code for r in rows], "titles": [r.title for r in rows],
                "sent": [r.at.get("sent") for r in rows], "delivered": [r.at.get("delivered") for r in rows],
                "read": [r.at.get("read") for r in rows], "finished": [r.at.get("finished") for r in rows]})
            waited: list[tuple] = []
            for campaign, *rest in result:
                if campaign is not None:
                    campaigns.add(str(campaign))
                else:
                    waited.append(rest)
            merged = _merge_rows(waited)  # they carry no provider id: the next round teaches nothing
        return campaigns

    async def _sweep(self, conn: AsyncConnection) -> set[str]:
        """Waiting statuses whose contact learnt its provider id meanwhile (a race between two
        transactions: the ack's did not see the id, the `sent`'s did not see the ack) are applied;
        those older than `keep_pending` are dropped."""
        window = None if self._swept is None else timedelta(seconds=monotonic() - self._swept) + SWEEP_MARGIN
        campaigns = await self._update(conn, _merge_rows(await conn.execute(RECONCILE, {"window": window})))
        await conn.execute(PRUNE, {"keep": self.keep_pending})
        return campaigns
