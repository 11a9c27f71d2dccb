"""Quota state shared by every session-pool replica: one KV entry per sender, changed only by
compare-and-set (`update(..., last=revision)`), so two replicas can never both spend the same room."""

from __future__ import annotations

import asyncio
import json
import random
import time

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from ..domain.quota import QuotaLedger, State


class QuotaConflict(Exception):
    """Other replicas kept changing the sender's quota state; the messages wait and try again."""


class SharedQuotas:
    def __init__(self, kv, attempts: int = 50):
        self.kv, self.attempts = kv, attempts

    async def _read(self, key: str) -> tuple[State | None, int]:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None, 0
        return (json.loads(entry.value) if entry.value else None), entry.revision or 0

    async def take(self, sender_id: str, ledger: QuotaLedger, wanted: int) -> tuple[int, float]:
        """Reserve up to `wanted` sends for the sender now: (granted, seconds until more may go).
        A reservation whose send never happens (a crash) is spent all the same: never exceeded."""
        if ledger.unlimited or wanted <= 0:
            return wanted, 0.0
        for attempt in range(self.attempts):
            state, revision = await self._read(sender_id)
            granted, wait, new_state = ledger.take(state, time.time(), wanted)
            if granted == 0:
                return 0, wait
            value = json.dumps(new_state, separators=(",", ":")).encode()
            try:
                if revision:
                    await self.kv.update(sender_id, value, last=revision)
                else:
                    await self.kv.create(sender_id, value)
                return granted, wait
            except KeyWrongLastSequenceError:  # another replica changed it first: read again
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise QuotaConflict(f"quota state of sender {sender_id} kept changing")

    async def usage(self, sender_id: str, ledger: QuotaLedger) -> dict:
        state, _ = await self._read(sender_id)
        return ledger.usage(state, time.time())
