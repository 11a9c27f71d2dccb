"""Choosing a sender from a pool: round-robin among the senders usable now, sticky per recipient (a
contact keeps its sender while that sender stays usable). Pure: the caller says what "usable" and
"has quota" mean (connected, not paused, healthy; quota not known to be exhausted)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence

STICKY_ENTRIES = 100_000  # recipients remembered (least recently used forgotten first)
POOL_CURSORS = 10_000  # pools whose rotation position is remembered


def _always(sender_id: str) -> bool:
    return True


class Candidates(tuple):
    """A pool's sender ids in their order, with each one's position (membership in O(1))."""

    def __new__(cls, sender_ids):
        self = super().__new__(cls, sender_ids)
        self.position = {sender_id: i for i, sender_id in enumerate(self)}
        return self


def _index(candidates: Sequence[str], sender_id: str) -> int | None:
    position = getattr(candidates, "position", None)
    if position is not None:
        return position.get(sender_id)
    try:
        return candidates.index(sender_id)
    except ValueError:
        return None


class Rotation:
    def __init__(self, sticky_entries: int = STICKY_ENTRIES, pools: int = POOL_CURSORS):
        self.sticky_entries, self.pools = sticky_entries, pools
        self.sticky: OrderedDict[Hashable, str] = OrderedDict()  # recipient → its sender
        self.cursors: OrderedDict[Hashable, int] = OrderedDict()  # pool → index of the next candidate

    def order(self, pool: Hashable, candidates: Sequence[str], recipient: Hashable,
              usable: Callable[[str], bool], has_quota: Callable[[str], bool] = _always) -> Iterator[str]:
        """The candidates to try, in order: the recipient's sticky sender when it is a candidate and
        usable with quota, then the others round-robin from the pool's cursor. Never yields a sender
        that is not usable or has no quota. Lazy: a caller that takes the first pays for one."""
        if not candidates:
            return
        first = self.sticky.get(recipient)
        if first is not None and _index(candidates, first) is not None and usable(first) and has_quota(first):
            self.sticky.move_to_end(recipient)
            yield first
        else:
            first = None
        n = len(candidates)
        start = self.cursors.get(pool, 0) % n
        for i in range(n):
            sender_id = candidates[(start + i) % n]
            if sender_id != first and usable(sender_id) and has_quota(sender_id):
                yield sender_id

    def chosen(self, pool: Hashable, candidates: Sequence[str], recipient: Hashable, sender_id: str) -> None:
        """The message to `recipient` goes through `sender_id`: it becomes the recipient's sticky
        sender, and unless it already was, the pool's rotation moves past it."""
        if self.sticky.get(recipient) != sender_id:
            index = _index(candidates, sender_id)
            if index is None:
                return
            self.cursors[pool] = index + 1
            self.cursors.move_to_end(pool)
            if len(self.cursors) > self.pools:
                self.cursors.popitem(last=False)
        self.sticky[recipient] = sender_id
        self.sticky.move_to_end(recipient)
        if len(self.sticky) > self.sticky_entries:
            self.sticky.popitem(last=False)

    def sticky_sender(self, recipient: Hashable) -> str | None:
        return self.sticky.get(recipient)
