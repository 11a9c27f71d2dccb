"""When to try a delivery again. The Standard Webhooks schedule: immediately, 5 s, 5 min, 30 min, 2 h,
5 h, 10 h, 14 h, 20 h, 24 h after the failures before (each delay with ±20 % jitter, so endpoints that
fail together do not retry together); a receiver's `Retry-After` on 429/503 replaces the delay (capped
at a day). After the last delay's attempt fails, the event is given up (recorded as `exhausted`) and the
endpoint goes on with the next; an endpoint whose every attempt failed for `disable_after` is disabled."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

DEFAULT_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)
MAX_RETRY_AFTER = 86400.0
JITTER = 0.2


def parse_schedule(text: str) -> tuple[float, ...]:
    """`"0,5,300,…"` (seconds) → the schedule; ValueError for anything else."""
    delays = tuple(float(part) for part in text.split(",") if part.strip())
    if not delays or any(d < 0 for d in delays):
        raise ValueError("a retry schedule is a comma-separated list of delays in seconds, ≥ 0")
    return delays


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) in seconds from now, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return min(max((at - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


@dataclass(frozen=True)
class Next:
    """What follows a failed attempt: another at `at`, or giving the event up (`at` None)."""

    at: datetime | None


def after_failure(schedule: tuple[float, ...], attempts: int, now: datetime, retry_after: float | None = None,
                  rng: random.Random | None = None) -> Next:
    """`attempts`: how many attempts of this event failed, the last one included (1 after the first)."""
    if attempts >= len(schedule):
        return Next(None)
    if retry_after is not None:
        return Next(now + timedelta(seconds=retry_after))
    delay = schedule[attempts]
    jitter = 1.0 + (rng or random).uniform(-JITTER, JITTER)
    return Next(now + timedelta(seconds=delay * jitter))


def should_disable(failing_since: datetime | None, now: datetime, disable_after: timedelta) -> bool:
    return failing_since is not None and now - failing_since >= disable_after
