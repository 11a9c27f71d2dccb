"""Human pacing for WhatsApp Web senders: before each message, a random pause plus the time it takes to
type the text (capped), shown to the recipient as "typing…". Bulk sends at machine speed get
unofficial numbers banned; this is the pause. Pure: the caller brings the clock and the randomness."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

OFF = frozenset({"off", "false", "no", "0", "disabled"})


@dataclass(frozen=True)
class HumanPacing:
    min_seconds: float = 1.0  # the random pause before typing starts, at least …
    max_seconds: float = 4.0  # … and at most
    per_char_seconds: float = 0.03  # typing speed
    cap_seconds: float = 12.0  # no single pause is longer (unless max_seconds itself is)

    def delay(self, text: str, rng: random.Random) -> float:
        """Seconds to show "typing…" before sending `text`."""
        low, high = sorted((self.min_seconds, self.max_seconds))
        typing = len(text or "") * self.per_char_seconds
        return min(rng.uniform(low, high) + typing, max(self.cap_seconds, high))

    @classmethod
    def from_config(cls, config: dict[str, str], base: HumanPacing | None = None) -> HumanPacing | None:
        """A sender's pacing from its configuration: `pacing` "off" disables it (on by default);
        `pacing_min_ms` / `pacing_max_ms` override the bounds of `base` (the defaults when not given).
        Values that are not non-negative numbers are ignored; bounds given the wrong way round are
        swapped."""
        base = base or cls()
        if str(config.get("pacing", "on")).strip().lower() in OFF:
            return None
        low = _seconds(config.get("pacing_min_ms"), base.min_seconds)
        high = _seconds(config.get("pacing_max_ms"), base.max_seconds)
        low, high = sorted((low, high))
        return replace(base, min_seconds=low, max_seconds=high)


def _seconds(value: object, default: float) -> float:
    try:
        ms = float(str(value))
    except (TypeError, ValueError):
        return default
    return ms / 1000 if math.isfinite(ms) and ms >= 0 else default
