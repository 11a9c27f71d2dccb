"""The one status rule for outbound messages, shared by everyone who merges statuses (the
conversations history, the campaign statistics): a status only moves forward along
queued → sent → delivered → read → played; `failed`, `expired` and `cancelled` are terminal (the
first of them wins); `played` (a voice note listened to) counts as read. Pure; no I/O."""

from __future__ import annotations

TERMINAL = frozenset({"failed", "expired", "cancelled"})
RANK: dict[str, int] = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4,
                        **{s: 5 for s in TERMINAL}}
COUNTS_AS = {"played": "read"}  # for statistics: a played message is a read one


def rank(status: str) -> int:
    try:
        return RANK[status]
    except KeyError:
        raise ValueError(f"{status!r} is not a message status") from None


def advances(current: str | None, new: str) -> bool:
    """True when `new` moves a message past `current` (a late status never moves it back; nothing
    moves a terminal one)."""
    return current is None or rank(new) > rank(current)


def counted_as(status: str) -> str:
    """The status a statistic counts `status` as (`played` is `read`)."""
    return COUNTS_AS.get(status, status)


def rank_sql(column: str, below: dict[str, int] | None = None) -> str:
    """A SQL CASE expression giving `column`'s rank by this rule (statuses of `below`, e.g. a campaign
    contact's `pending`, rank as given; anything else ranks lowest)."""
    ranks = {**(below or {}), **RANK}
    return f"CASE {column} " + " ".join(f"WHEN '{s}' THEN {r}" for s, r in ranks.items()) + " ELSE -1 END"
