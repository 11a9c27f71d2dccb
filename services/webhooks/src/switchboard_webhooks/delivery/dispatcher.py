"""Which lines run here: every `poll` seconds (or at once, when this replica's API changed an endpoint)
this replica renews its lease on the enabled endpoints it delivers to and takes those whose lease lapsed
(a replica that stopped releases its endpoints; one that died loses them when the lease runs out). Each
has one lane; a lane whose endpoint changed (a new version: URL, filters, secret, enabled) is started
again from the recorded position; one whose endpoint is gone, disabled or taken is stopped. Open
recover and resend jobs of these endpoints run beside their lanes."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import timedelta

from switchboard_runtime.logs import get_logger

from ..endpoint_store import EndpointStore
from ..job_store import JobStore
from .jobs import JobRunner
from .lane import Lane

log = get_logger(__name__)


class Dispatcher:
    def __init__(self, store: EndpointStore, jobs: JobStore, runner: JobRunner, make_lane, *, poll: float,
                 lease: float):
        self.store, self.jobs, self.runner, self.make_lane = store, jobs, runner, make_lane
        self.poll, self.lease = poll, timedelta(seconds=lease)
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.lanes: dict[str, tuple[int, asyncio.Task]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook dispatcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._stop_lanes(set(self.lanes))
        await self.runner.stop()
        try:
            await self.store.release(self.owner)
        except Exception as exc:  # noqa: BLE001 - the lease runs out by itself
            log.warning("webhook endpoints not released", error=repr(exc))

    async def _run(self) -> None:
        while True:
            try:
                await self.look()
            except Exception as exc:  # noqa: BLE001 - looked at again at the next poll
                log.error("webhook dispatch failed", error=repr(exc))
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll)
            except TimeoutError:
                pass
            self._wake.clear()

    async def look(self) -> None:
        owned = await self.store.claim(self.owner, self.lease)
        gone = {e for e, (version, task) in self.lanes.items()
                if e not in owned or owned[e] != version or task.done()}
        await self._stop_lanes(gone)
        self.runner.stop_for(set(self.runner.running) - set(owned))
        for endpoint_id, version in owned.items():
            if endpoint_id not in self.lanes:
                lane: Lane = self.make_lane(endpoint_id)
                self.lanes[endpoint_id] = (version, asyncio.create_task(self._lane(lane),
                                                                        name=f"webhook lane {endpoint_id}"))
        self.runner.look(await self.jobs.open_jobs(list(owned)))

    async def _lane(self, lane: Lane) -> None:
        try:
            await lane.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next look starts it again
            log.error("webhook lane failed", endpoint_id=lane.endpoint_id, error=repr(exc))
            await asyncio.sleep(1.0)

    async def _stop_lanes(self, endpoint_ids: set[str]) -> None:
        tasks = [self.lanes.pop(e)[1] for e in endpoint_ids if e in self.lanes]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
