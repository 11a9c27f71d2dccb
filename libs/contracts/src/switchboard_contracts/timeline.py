"""The status rule every consumer of `message.status` shares: a message's status only moves forward,
and its timeline lists each status once (pure; no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .message import advances


@dataclass
class MessageState:
    status: str | None
    status_at: str | None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    error: dict | None = None
    provider_message_id: str | None = None

    def apply(self, status: str, at: str, error: dict | None = None,
              provider_message_id: str | None = None) -> bool:
        """Apply one status; returns whether anything changed (a repeat changes nothing)."""
        changed = False
        if not any(s["status"] == status for s in self.statuses):
            self.statuses.append({"status": status, "at": at})
            self.statuses.sort(key=_moment)
            changed = True
        if advances(self.status, status):
            self.status, self.status_at = status, at
            if error is not None:
                self.error = error
            changed = True
        if provider_message_id and not self.provider_message_id:
            self.provider_message_id = provider_message_id
            changed = True
        return changed


def _moment(entry: dict[str, Any]) -> tuple[datetime, str]:
    """When a timeline entry happened. By time, not by text: an RFC 3339 time without a fraction
    (`12:00:00Z`) sorts as text after one with (`12:00:00.010000Z`). A time without a zone is UTC's;
    what is no time at all (never written so) sorts first, by its text, rather than failing the batch."""
    at = str(entry["at"])
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC), at
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), at


def provider_ref(sender_id: str, provider_message_id: str) -> str:
    """The key under which a status known only by its provider message id (WAHA acks, Meta statuses
    without our id) waits until a message with that provider message id is known."""
    return f"pmid:{sender_id}:{provider_message_id}"
