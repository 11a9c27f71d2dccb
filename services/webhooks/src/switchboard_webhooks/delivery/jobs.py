"""Running recover and resend jobs, for the endpoints this replica delivers to: each job on its own task
(beside the endpoint's line, which goes on), its events in stream order, each tried on the same schedule
as the line (attempts logged with trigger `recover` or `resend`), the cursor recorded as it goes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from switchboard_contracts import streams
from switchboard_contracts.envelope import utcnow
from switchboard_runtime.messaging.history import org_history

from ..attempts import AttemptLog
from ..domain.schedule import after_failure, retry_after_seconds
from ..endpoint_store import EndpointStore
from ..job_store import JobStore
from .http_post import client
from .lane import LaneConfig
from .target import Event, Target

PROGRESS_EVERY = 200


class JobRunner:
    def __init__(self, js, store: EndpointStore, jobs: JobStore, log: AttemptLog, config: LaneConfig):
        self.js, self.store, self.jobs, self.log, self.config = js, store, jobs, log, config
        self.running: dict[str, tuple[str, asyncio.Task]] = {}  # endpoint → (job, its task)

    def look(self, rows) -> None:
        """Start the open jobs not running yet (one at a time per endpoint, oldest first)."""
        for endpoint_id in [e for e, (_, task) in self.running.items() if task.done()]:
            del self.running[endpoint_id]
        for row in rows:
            if row.endpoint_id not in self.running:
                self.running[row.endpoint_id] = (row.id, asyncio.create_task(self._run(row),
                                                                             name=f"webhook job {row.id}"))

    def stop_for(self, endpoint_ids: set[str]) -> None:
        """Jobs of endpoints this replica no longer delivers to (another may take them on)."""
        for endpoint_id in endpoint_ids & set(self.running):
            self.running.pop(endpoint_id)[1].cancel()

    async def stop(self) -> None:
        tasks = [task for _, task in self.running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.running.clear()

    async def _run(self, job) -> None:
        row = await self.store.load(job.endpoint_id)
        if row is None:
            return
        if not row.enabled:
            await self.jobs.progress(job.id, cursor=job.cursor, delivered=job.delivered, failed=job.failed,
                                     status="failed", error="the endpoint is disabled")
            return
        target = Target(job.endpoint_id, row.org_id, row.url, self.store.keys(row.secrets),
                        client(allow_private=self.config.allow_private, timeout=self.config.timeout),
                        self.log, self.config.timeout, self.config.max_bytes)
        delivered, failed, cursor = job.delivered, job.failed, job.cursor
        try:
            async for event in self._events(job, list(row.event_types)):
                ok = await self._deliver(target, event, job.kind)
                if ok is None:  # 410 Gone: the endpoint is disabled
                    await self.log.flush()
                    await self.jobs.progress(job.id, cursor=event.sequence, delivered=delivered, failed=failed + 1,
                                             status="failed", error="the receiver answered 410 Gone")
                    return
                delivered, failed, cursor = delivered + ok, failed + (not ok), event.sequence
                if (delivered + failed) % PROGRESS_EVERY == 0:
                    await self.jobs.progress(job.id, cursor=cursor, delivered=delivered, failed=failed)
            await self.log.flush()
            await self.jobs.progress(job.id, cursor=cursor, delivered=delivered, failed=failed, status="done")
        finally:
            await target.http.aclose()

    async def _events(self, job, types: list[str]) -> AsyncIterator[Event]:
        if job.kind == "resend":
            if job.cursor < job.sequence:
                msg = await self.js.get_msg(streams.EVENTS.name, job.sequence)
                yield Event.of(job.sequence, msg.data)
            return
        start = {"from_seq": job.cursor + 1} if job.cursor else {"since": job.since}
        async for seq, _subject, at, raw in org_history(self.js, job.org_id, **start, until=job.until,
                                                        types=None if types == ["*"] else types):
            if job.since is not None and at < job.since:
                continue
            yield Event.of(seq, raw)

    async def _deliver(self, target: Target, event: Event, trigger: str) -> bool | None:
        """True once delivered, False if every attempt of the schedule failed, None on 410 Gone."""
        schedule = self.config.schedule
        for number in range(1, len(schedule) + 1):
            last = number == len(schedule)
            outcome = await target.attempt(event, number, trigger,
                                           final_note=f"gave up after {number} attempts" if last else None)
            if outcome.kind == "succeeded":
                return True
            if outcome.kind == "gone":
                await self.store.disable(target.endpoint_id, "gone",
                                         f"the receiver answered 410 Gone to {event.id}")
                return None
            now = utcnow()
            nxt = after_failure(schedule, number, now, retry_after_seconds(outcome.retry_after, now))
            if nxt.at is None:
                return False
            await asyncio.sleep(max(0.0, (nxt.at - now).total_seconds()))
        return False

