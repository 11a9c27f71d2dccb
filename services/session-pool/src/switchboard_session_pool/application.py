"""The Senders application: registration and lifecycle of Sender aggregates (synchronous;
call it through `switchboard_runtime.eventstore.call`)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from switchboard_contracts.commands import RegisterSender

from .domain.sender import Sender, simulator_phone_number


class SendersApp(Application[UUID]):
    name = "senders"

    def register(self, org_id: str, cmd: RegisterSender) -> Sender:
        """Create the sender (idempotent: registering the same id again returns the existing one)."""
        existing = self.find(cmd.sender_id)
        if existing is not None:
            return existing
        now = datetime.now(UTC)
        simulated = cmd.provider.value == "simulator"
        sender = Sender(
            sender_id=cmd.sender_id, org_id=org_id, name=cmd.name, provider=cmd.provider.value,
            quotas=cmd.quotas.model_dump(),
            phone_number=simulator_phone_number(cmd.sender_id) if simulated else None,
            registered_at=now, config=dict(cmd.config), sealed_credentials=cmd.sealed_credentials,
        )
        if simulated:
            sender.connect(org_id=org_id, connected_at=now)
        try:
            self.save(sender)
        except IntegrityError:  # another replica registered it first
            return self.repository.get(UUID(cmd.sender_id))
        return sender

    def find(self, sender_id: str) -> Sender | None:
        try:
            return self.repository.get(UUID(sender_id))
        except (AggregateNotFoundError, ValueError):
            return None

    # --- lifecycle ------------------------------------------------------------------------------
    # Each returns the sender as it now is, or None when it does not exist in that organization.

    def _owned(self, org_id: str, sender_id: str) -> Sender | None:
        sender = self.find(sender_id)
        return sender if sender is not None and sender.org_id == org_id else None

    def connected(self, org_id: str, sender_id: str, phone_number: str | None = None) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and sender.status != "connected":
            sender.connect(org_id=org_id, connected_at=datetime.now(UTC), phone_number=phone_number)
            self.save(sender)
        return sender

    def disconnected(self, org_id: str, sender_id: str, reason: str, code: int | str | None = None) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and (sender.status != "disconnected" or sender.reason != reason):
            sender.disconnect(org_id=org_id, reason=reason, code=code, at=datetime.now(UTC))
            self.save(sender)
        return sender

    def pause(self, org_id: str, sender_id: str, reason: str, *, automatic: bool = False,
              code: int | str | None = None) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and sender.paused is None:
            sender.pause(org_id=org_id, reason=reason, automatic=automatic, code=code, at=datetime.now(UTC))
            self.save(sender)
        return sender

    def resume(self, org_id: str, sender_id: str) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and sender.paused is not None:
            sender.resume(org_id=org_id, at=datetime.now(UTC))
            self.save(sender)
        return sender
