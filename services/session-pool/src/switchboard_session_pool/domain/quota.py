"""Per-sender quotas over sliding windows, as a small JSON-able state that replicas share (the
session-pool keeps it in a KV bucket and changes it only by compare-and-set).

Each window counts sends in 60 buckets of 1/60 of its length. A bucket is forgotten only once its
*end* has left the window, so the count is never below the true sliding count: the limit is never
exceeded, at the price of freeing capacity up to one bucket (1 s for a minute, 1 min for an hour,
24 min for a day) late."""

from __future__ import annotations

import math
import time
from typing import Any

WINDOWS = {"per_minute": 60.0, "per_hour": 3600.0, "per_day": 86400.0}
BUCKETS = 60

State = dict[str, dict[str, int]]  # window name → {bucket index (as a string): sends}


DAY = 86400.0


class QuotaLedger:
    """The rule for one sender's quotas (and warm-up ramp, by the sender's age); the state it reads
    and returns is the shared one."""

    def __init__(self, quotas: dict[str, Any], registered_at: float | None = None):
        self.fixed = {name: int(limit) for name, limit in quotas.items() if limit and name in WINDOWS}
        self.warmup = quotas.get("warmup") if registered_at is not None else None
        self.registered_at = registered_at or 0.0

    @property
    def unlimited(self) -> bool:
        return not self.fixed and not self.warmup

    def limits_at(self, now: float) -> dict[str, int]:
        limits = dict(self.fixed)
        if self.warmup:
            days = max(math.floor((now - self.registered_at) / DAY), 0)
            ramp = int(min(self.warmup["first_day"] * float(self.warmup.get("growth") or 2.0) ** min(days, 60), 1e12))
            limits["per_day"] = min(limits.get("per_day", ramp), ramp)
        return limits

    @property
    def limits(self) -> dict[str, int]:
        return self.limits_at(time.time())

    @staticmethod
    def _live(counts: dict[str, int], seconds: float, now: float) -> dict[str, int]:
        width = seconds / BUCKETS
        return {b: n for b, n in counts.items() if (int(b) + 1) * width > now - seconds}

    def take(self, state: State | None, now: float, wanted: int) -> tuple[int, float, State]:
        """Grant up to `wanted` sends at `now`: (granted, seconds until the next one may go when not
        all were granted, the new state)."""
        limits = self.limits_at(now)
        state = {name: self._live((state or {}).get(name, {}), WINDOWS[name], now) for name in limits}
        room = min((limits[name] - sum(state[name].values()) for name in limits), default=wanted)
        granted = max(min(wanted, room), 0)
        for name in limits:
            if granted:
                b = str(math.floor(now / (WINDOWS[name] / BUCKETS)))
                state[name][b] = state[name].get(b, 0) + granted
        wait = 0.0 if granted == wanted else self.wait_time(state, now)
        return granted, wait, state

    def wait_time(self, state: State, now: float) -> float:
        """Seconds until every window has room again."""
        wait = 0.0
        for name, limit in self.limits_at(now).items():
            seconds, counts = WINDOWS[name], self._live(state.get(name, {}), WINDOWS[name], now)
            used, width = sum(counts.values()), seconds / BUCKETS
            for b in sorted(counts, key=int):  # the oldest buckets leave first
                if used < limit:
                    break
                used -= counts[b]
                wait = max(wait, (int(b) + 1) * width + seconds - now)
        return max(wait, 0.0)

    def usage(self, state: State | None, now: float) -> dict[str, dict[str, int]]:
        out = {}
        for name, limit in self.limits_at(now).items():
            used = sum(self._live((state or {}).get(name, {}), WINDOWS[name], now).values())
            out[name] = {"used": used, "left": max(limit - used, 0), "limit": limit}
        return out
