"""The phones one import has already taken, in little memory and without collisions. Pure."""

from __future__ import annotations

from array import array


class Deduper:
    """The phones already taken in one import, as an open-addressing table of 8-byte slots (a
    million phones ≈ 16 MB, against ~100 MB for a set of strings). The key is the E.164 number
    itself — at most 15 digits fit in 64 bits — so two different phones never collide."""

    def __init__(self) -> None:
        self._bits = 10
        self._slots = array("Q", [0]) * (1 << self._bits)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def seen(self, phone: str) -> bool:
        """True if `phone` (E.164) came before in this import; otherwise remember it."""
        if phone[:1] != "+" or not phone[1:].isdigit():
            raise ValueError(f"not an E.164 number: {phone!r}")
        key = int(phone[1:])
        slots, mask = self._slots, (1 << self._bits) - 1
        i = ((key * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> (64 - self._bits)
        while slots[i]:
            if slots[i] == key:
                return True
            i = (i + 1) & mask
        slots[i] = key
        self._count += 1
        if self._count * 10 > 7 << self._bits:
            self._grow()
        return False

    def _grow(self) -> None:
        old = self._slots
        self._bits += 1
        self._slots = array("Q", [0]) * (1 << self._bits)
        self._count = 0
        for key in old:
            if key:
                self.seen(f"+{key}")
