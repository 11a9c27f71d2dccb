"""Times on the command line: RFC 3339 (`2026-05-01T12:00:00Z`), a date (`2026-05-01`, midnight UTC),
`now`, or an age (`90s`, `15m`, `2h`, `7d`: that long ago). Without an offset, UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_AGO = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    text = text.strip()
    if text == "now":
        return now
    if m := _AGO.match(text):
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (RFC 3339, a date, now, or an age like 15m, 2h, 7d)") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
