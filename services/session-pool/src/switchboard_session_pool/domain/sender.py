"""The Sender aggregate: a WhatsApp number or session that sends on an organization's behalf."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class Sender(Aggregate):
    @staticmethod
    def create_id(sender_id: str) -> UUID:
        """Sender ids are chosen by the caller (the gateway), so a retried registration is one sender."""
        return UUID(sender_id)

    @event("Registered")
    def __init__(self, sender_id: str, org_id: str, name: str, provider: str, quotas: dict[str, Any],
                 phone_number: str | None, registered_at: datetime, config: dict[str, str] | None = None,
                 sealed_credentials: str | None = None, labels: list[str] | None = None):
        self.org_id = org_id
        self.name = name
        self.provider = provider
        self.quotas = quotas
        self.phone_number = phone_number
        self.registered_at = registered_at
        self.config = config or {}  # non-secret provider settings
        self.sealed_credentials = sealed_credentials  # ciphertext only (SWITCHBOARD_SECRET_KEY)
        self.status = "registered"
        self.connected_at: datetime | None = None
        self.paused: dict[str, Any] | None = None  # {"reason", "automatic", "code"} while paused
        self.reason: str | None = None  # why it is disconnected (or banned)
        self.labels: list[str] = list(labels or [])
        self.attempt = 0  # the connection attempt in progress (0 when none)
        self.retry_in: float | None = None  # seconds to the next connection attempt, when one is due

    @event("Updated")
    def update(self, org_id: str, name: str | None, quotas: dict[str, Any] | None, labels: list[str] | None,
               at: datetime) -> None:
        if name is not None:
            self.name = name
        if quotas is not None:
            self.quotas = quotas
        if labels is not None:
            self.labels = list(labels)

    @event("Removed")
    def remove(self, org_id: str, at: datetime) -> None:
        self.status = "removed"

    @event("Connecting")
    def connecting(self, org_id: str, attempt: int, at: datetime) -> None:
        self.status = "connecting"
        self.attempt = attempt

    @event("QrIssued")
    def qr_issued(self, org_id: str, at: datetime) -> None:
        self.status = "qr_issued"

    @event("Banned")
    def ban(self, org_id: str, reason: str, code: int | str | None, at: datetime) -> None:
        self.status = "banned"
        self.reason = reason

    @event("Connected")
    def connect(self, org_id: str, connected_at: datetime, phone_number: str | None = None) -> None:
        self.status = "connected"
        self.connected_at = connected_at
        self.reason = None
        self.attempt = 0
        if phone_number:
            self.phone_number = phone_number

    @event("Disconnected")
    def disconnect(self, org_id: str, reason: str, code: int | str | None, at: datetime, attempt: int = 0,
                   retry_in: float | None = None) -> None:
        self.status = "disconnected"
        self.reason = reason
        self.retry_in = retry_in

    @event("Paused")
    def pause(self, org_id: str, reason: str, automatic: bool, code: int | str | None, at: datetime) -> None:
        self.paused = {"reason": reason, "automatic": automatic, "code": code}

    @event("Resumed")
    def resume(self, org_id: str, at: datetime) -> None:
        self.paused = None

    def can_send(self) -> bool:
        return self.status == "connected" and self.paused is None

    @property
    def removed(self) -> bool:
        return self.status == "removed"

    @property
    def lifecycle(self) -> str:
        """What the API shows: paused overrides the connection state while it lasts."""
        return "paused" if self.paused and self.status != "removed" else self.status

    @property
    def account(self) -> str | None:
        """The provider account webhooks name: Meta's phone_number_id or WAHA's session."""
        return self.config.get("phone_number_id") or self.config.get("session")


def simulator_phone_number(sender_id: UUID | str) -> str:
    """A stable, obviously fictional E.164 number for a simulator sender (+1 555 01xx xxxx)."""
    digits = str(int(UUID(str(sender_id))) % 10_000_000).zfill(7)
    return f"+1555{digits}"
