"""A sender's health: a score from 0 to 100 over its recent outcomes, and its run of consecutive
failures. Below 50, or after 5 failures in a row, selection should skip it; after 10 in a row it is
paused automatically."""

from __future__ import annotations

from dataclasses import dataclass

SKIP_BELOW_SCORE = 50
SKIP_AFTER_FAILURES = 5
PAUSE_AFTER_FAILURES = 10
WEIGHT = 0.1  # each outcome moves the score 10 % of the way towards 100 (success) or 0 (failure)


@dataclass
class Health:
    score: float = 100.0
    consecutive_failures: int = 0

    def record(self, ok: bool) -> None:
        self.score += WEIGHT * ((100.0 if ok else 0.0) - self.score)
        self.consecutive_failures = 0 if ok else self.consecutive_failures + 1

    @property
    def selectable(self) -> bool:
        return self.score >= SKIP_BELOW_SCORE and self.consecutive_failures < SKIP_AFTER_FAILURES

    @property
    def should_pause(self) -> bool:
        return self.consecutive_failures >= PAUSE_AFTER_FAILURES
