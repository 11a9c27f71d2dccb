"""Times a flow's author writes (a delay node's `until`): RFC 3339 with a UTC offset (`Z` or `+02:00`),
nothing else — a time without its offset would mean a different moment on every server."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(text: str) -> datetime | None:
    """The moment `text` names (in UTC), or None when it is not an RFC 3339 time with an offset."""
    text = text.strip()
    if not 20 <= len(text) <= 40 or "T" not in text.upper():
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo is not None and when.utcoffset() is not None else None
