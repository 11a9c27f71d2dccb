"""Pair rate: Meta's limit on messages from a business number to one WhatsApp user (error 131056) —
one every `interval` (6 s) on average, with a short burst of `burst` messages at once that is paid
back at that rate (Meta's documentation lets a business "borrow" a burst from the pair's future
quota). A token bucket per (sender, recipient), kept as GCRA: the pair's theoretical arrival time
`tat` advances by `interval` per message, and a message may go while `tat` is at most
`(burst − 1) × interval` ahead of now. `burst` 1 is one message per interval, strictly."""

from __future__ import annotations

Claim = tuple[float | None, float]  # (the pair's tat before the claim, the tat the claim set)


class PairRate:
    def __init__(self, interval: float = 6.0, burst: int = 1):
        self.interval = interval
        self.burst = max(int(burst), 1)
        self.tolerance = (self.burst - 1) * interval
        self.tat: dict[tuple[str, str], float] = {}
        self._pruned = 0.0

    def wait(self, sender_id: str, recipient: str, now: float) -> float:
        """Seconds until this sender may message this recipient again (0: now)."""
        tat = self.tat.get((sender_id, recipient))
        return 0.0 if tat is None else max(tat - self.tolerance - now, 0.0)

    def reserve(self, sender_id: str, recipient: str, now: float) -> Claim:
        """Claim one message of the pair now, before the admission awaits anything (another batch
        admitted at the same time then sees it taken); returns what `release` needs to undo it."""
        key = (sender_id, recipient)
        previous = self.tat.get(key)
        self.tat[key] = max(previous if previous is not None else now, now) + self.interval
        self._prune(now)
        return previous, self.tat[key]

    def release(self, sender_id: str, recipient: str, claim: Claim | None) -> None:
        """Undo a claim whose message was not admitted after all (its sender's quota refused it). A
        newer claim of the pair is left alone (undoing the older one then keeps its slot taken:
        never more messages than the rate allows, at worst one fewer for a while). Claims undone
        newest first are undone exactly."""
        if claim is None:
            return
        key, (previous, produced) = (sender_id, recipient), claim
        if self.tat.get(key) != produced:
            return
        if previous is None:
            del self.tat[key]
        else:
            self.tat[key] = previous

    def record(self, sender_id: str, recipient: str, now: float) -> None:
        """A message went to the pair now."""
        self.reserve(sender_id, recipient, now)

    def _prune(self, now: float) -> None:
        if now - self._pruned > self.interval:  # forget pairs whose bucket is full again
            self.tat = {k: t for k, t in self.tat.items() if t > now}
            self._pruned = now
