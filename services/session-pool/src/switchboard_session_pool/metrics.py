"""Figures the session-pool reports on `GET /metrics`: admission decision times and memory."""

from __future__ import annotations

import resource
import sys
from collections import deque


class AdmissionTimes:
    """The most recent admission decisions (quota + pair rate + health), in milliseconds per message,
    and per batch."""

    def __init__(self, keep: int = 100_000):
        self.per_message: deque[float] = deque(maxlen=keep)
        self.per_batch: deque[float] = deque(maxlen=keep)

    def record(self, seconds: float, messages: int) -> None:
        if messages:
            self.per_batch.append(seconds * 1000)
            self.per_message.extend([seconds * 1000 / messages] * messages)

    @staticmethod
    def _quantiles(values: deque[float]) -> dict[str, float | int | None]:
        ordered = sorted(values)
        if not ordered:
            return {"count": 0, "p50": None, "p99": None}
        return {"count": len(ordered), "p50": round(ordered[len(ordered) // 2], 4),
                "p99": round(ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)], 4)}

    def snapshot(self) -> dict:
        return {"admission_ms_per_message": self._quantiles(self.per_message),
                "admission_ms_per_batch": self._quantiles(self.per_batch)}


def rss_mb() -> float:
    """Resident memory now (Linux: /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024
