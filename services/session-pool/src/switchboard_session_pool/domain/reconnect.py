"""When to try connecting a sender again: 5 s, 10 s, 20 s … capped at 5 minutes, for a settable
number of attempts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReconnectPolicy:
    base_seconds: float = 5.0
    cap_seconds: float = 300.0
    max_attempts: int = 30  # 0: no limit

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return min(self.base_seconds * 2 ** max(attempt - 1, 0), self.cap_seconds)

    def gives_up(self, attempt: int) -> bool:
        return self.max_attempts > 0 and attempt >= self.max_attempts
