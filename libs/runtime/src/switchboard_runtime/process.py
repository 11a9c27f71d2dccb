"""Running a service process: uvloop where available, a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Awaitable, Callable


_OWN_PROCESS = False  # set by `run`: this process runs one service (not tests hosting several)


def run(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)`; `stop` is set on SIGINT or SIGTERM and main is expected to return."""
    global _OWN_PROCESS
    _OWN_PROCESS = True

    async def _runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    try:
        import uvloop

        uvloop.run(_runner())
    except ImportError:  # pragma: no cover - platforms without uvloop
        asyncio.run(_runner())


def settle_heap() -> None:
    """Called once start-up is done (`started`, once every part has): what was built so
    far lives as long as the process, so the collector stops scanning it, and young objects (a
    request's, a batch's) pile up a little longer before a collection pass — fewer, cheaper pauses
    on hot paths. Every service's consumers allocate a few objects per delivery, and with Python's
    default thresholds the cyclic collector ran through the whole heap that often: in `make
    bench-campaign` (alternating runs, three rounds), settling every service's heap took the
    session-pool from 0.32/0.37/0.35 to 0.29/0.25/0.31 ms of CPU per message, the conversations
    service from 0.27/0.30/0.29 to 0.22/0.18/0.24, campaigns from 0.20/0.24/0.22 to 0.19/0.16/0.20
    (a first two-round trial had shown more: session-pool 0.32/0.27 → 0.25/0.23). Reference counting still frees everything that
    holds no cycle at once; only cyclic garbage waits for the less frequent passes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def started() -> None:
    """A service has started (the host calls it): settle the heap if the process is the service's own
    (`run`). A process that hosts services among other things — the tests — keeps Python's defaults:
    freezing its heap at every service start would keep each test's cyclic garbage for good."""
    if _OWN_PROCESS:
        settle_heap()
