"""What to do about a provider's error, decided by Meta's `error.code` (not the HTTP status)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    RETRY = "retry"  # throughput / rate limits: back off, then send again
    DELAY_RECIPIENT = "delay_recipient"  # pair rate limit: this recipient a little later
    PAUSE_SENDER = "pause_sender"  # spam / account signals: stop the sender, keep the message waiting
    FAIL = "fail"  # the message cannot go: fail it with the provider's code and title


RETRY_CODES = {130429, 4, 80007, 131000, 2}  # throughput, API and business rate limits; transient
DELAY_RECIPIENT_CODES = {131056}
PAUSE_SENDER_CODES = {131048, 131031, 368}
OUTSIDE_WINDOW = 131047
PAIR_DELAY_SECONDS = 6.0


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0  # seconds before the next attempt (RETRY, DELAY_RECIPIENT)


def decide(code: int | str | None, attempt: int = 0) -> Decision:
    """Meta's codes; anything unknown (including 131026 undeliverable, 131047 outside the 24-hour
    window and the 132xxx template errors) fails the message."""
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        return Decision(Action.FAIL)
    if code in RETRY_CODES:
        return Decision(Action.RETRY, backoff(attempt))
    if code in DELAY_RECIPIENT_CODES:
        return Decision(Action.DELAY_RECIPIENT, PAIR_DELAY_SECONDS)
    if code in PAUSE_SENDER_CODES:
        return Decision(Action.PAUSE_SENDER)
    return Decision(Action.FAIL)


def backoff(attempt: int, base: float = 1.0, cap: float = 300.0) -> float:
    """1 s, 2 s, 4 s … capped at 5 minutes."""
    return min(base * 2 ** max(attempt, 0), cap)
