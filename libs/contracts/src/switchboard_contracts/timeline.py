"""The status rule every consumer of `message.status` shares: a message's status only moves forward,
and its timeline lists each status once (pure; no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
            self.statuses.sort(key=lambda s: s["at"])
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


def provider_ref(sender_id: str, provider_message_id: str) -> str:
    """The key under which a status known only by its provider message id (WAHA acks, Meta statuses
    without our id) waits until a message with that provider message id is known."""
    return f"pmid:{sender_id}:{provider_message_id}"
