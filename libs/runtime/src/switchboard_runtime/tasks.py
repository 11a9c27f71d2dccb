"""A background loop that must keep running: an unexpected error is logged with its traceback and the
loop starts again after a pause; cancelling it (a stop) ends it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def keep_running(name: str, loop: Callable[[], Awaitable[object]], log, pause: float = 0.5) -> None:
    while True:
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - logged; the loop goes on
            log.error(f"{name} failed; restarting it", error=repr(exc), exc_info=exc)
        else:
            log.warning(f"{name} ended; restarting it")
        await asyncio.sleep(pause)
