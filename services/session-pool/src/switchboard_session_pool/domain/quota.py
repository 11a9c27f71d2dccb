"""Per-sender quotas as exact sliding windows: a message may go only if every window has room."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

WINDOWS = {"per_minute": 60.0, "per_hour": 3600.0, "per_day": 86400.0}


@dataclass
class SlidingWindow:
    limit: int
    seconds: float
    sent_at: deque[float] = field(default_factory=deque)

    def _expire(self, now: float) -> None:
        while self.sent_at and self.sent_at[0] <= now - self.seconds:
            self.sent_at.popleft()

    def wait_time(self, now: float) -> float:
        """Seconds until this window has room (0 when it has room now)."""
        self._expire(now)
        if len(self.sent_at) < self.limit:
            return 0.0
        return self.sent_at[0] + self.seconds - now

    def used(self, now: float) -> int:
        self._expire(now)
        return len(self.sent_at)


class QuotaLedger:
    """Quota state of one sender. `try_take(now)` returns 0 and records the send, or the wait."""

    def __init__(self, quotas: dict[str, int | None]):
        self.windows = {name: SlidingWindow(limit, WINDOWS[name])
                        for name, limit in quotas.items() if limit and name in WINDOWS}

    def wait_time(self, now: float) -> float:
        return max((w.wait_time(now) for w in self.windows.values()), default=0.0)

    def try_take(self, now: float) -> float:
        wait = self.wait_time(now)
        if wait > 0:
            return wait
        for w in self.windows.values():
            w.sent_at.append(now)
        return 0.0

    def usage(self, now: float) -> dict[str, dict[str, int]]:
        return {name: {"used": w.used(now), "left": max(w.limit - w.used(now), 0), "limit": w.limit}
                for name, w in self.windows.items()}
