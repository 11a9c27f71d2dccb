"""Campaigns on hold, kept in memory from the KV bucket the campaigns service writes (watched live):
a paused campaign's queued messages wait here, a cancelled campaign's fail as `campaign_cancelled` —
so a pause or cancel also stops what was already handed to the session-pool."""

from __future__ import annotations

import asyncio
import contextlib

from switchboard_contracts.campaign import campaign_of
from switchboard_contracts.message import StatusError

CANCELLED = StatusError(code="campaign_cancelled", title="Campaign cancelled",
                        detail="The campaign was cancelled before this message could go.")


class CampaignHolds:
    def __init__(self, kv, on_change=lambda: None):
        self.kv, self.on_change = kv, on_change
        self.holds: dict[str, str] = {}  # campaign id → "paused" | "cancelled"
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        watcher = await self.kv.watchall()
        self._task = asyncio.create_task(self._follow(watcher), name="campaign-holds")

    async def _follow(self, watcher) -> None:
        async for entry in watcher:  # initial values, then a None marker, then live updates
            if entry is None:
                continue
            if entry.operation is None and entry.value:
                self.holds[entry.key] = entry.value.decode()
            else:
                self.holds.pop(entry.key, None)
            self.on_change()

    def of(self, client_ref: str | None) -> str | None:
        """"paused", "cancelled" or None for a message (by its client_ref)."""
        if not self.holds:
            return None
        campaign = campaign_of(client_ref)
        return self.holds.get(campaign) if campaign else None

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
