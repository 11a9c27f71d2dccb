"""Pair rate: at most one message per interval (6 s by default, Meta's 131056 limit) from a sender to
the same recipient."""

from __future__ import annotations


class PairRate:
    def __init__(self, interval: float = 6.0):
        self.interval = interval
        self.last: dict[tuple[str, str], float] = {}
        self._pruned = 0.0

    def wait(self, sender_id: str, recipient: str, now: float) -> float:
        """Seconds until this sender may message this recipient again (0: now)."""
        last = self.last.get((sender_id, recipient))
        return 0.0 if last is None else max(last + self.interval - now, 0.0)

    def reserve(self, sender_id: str, recipient: str, now: float) -> float | None:
        """Claim the pair now, before the admission awaits anything (another batch admitted at the
        same time then sees it taken); returns what `release` needs to undo the claim."""
        previous = self.last.get((sender_id, recipient))
        self.record(sender_id, recipient, now)
        return previous

    def release(self, sender_id: str, recipient: str, previous: float | None, claimed_at: float) -> None:
        """Undo the claim made at `claimed_at` whose message was not admitted after all (its sender's
        quota refused it). A newer claim (made once this one's interval had passed) is left alone."""
        key = (sender_id, recipient)
        if self.last.get(key) != claimed_at:
            return
        if previous is None:
            del self.last[key]
        else:
            self.last[key] = previous

    def record(self, sender_id: str, recipient: str, now: float) -> None:
        self.last[(sender_id, recipient)] = now
        if now - self._pruned > self.interval:  # forget pairs that can no longer hold anything back
            self.last = {k: t for k, t in self.last.items() if t > now - self.interval}
            self._pruned = now
