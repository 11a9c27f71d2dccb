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
            labels=list(cmd.labels),
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
        if sender is not None and sender.status not in ("connected", "removed"):
            sender.connect(org_id=org_id, connected_at=datetime.now(UTC), phone_number=phone_number)
            self.save(sender)
        return sender

    def disconnected(self, org_id: str, sender_id: str, reason: str, code: int | str | None = None, *,
                     attempt: int = 0, retry_in: float | None = None) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and not sender.removed and (
                sender.status != "disconnected" or sender.reason != reason or attempt or retry_in != sender.retry_in):
            sender.disconnect(org_id=org_id, reason=reason, code=code, at=datetime.now(UTC), attempt=attempt,
                              retry_in=retry_in)
            self.save(sender)
        return sender

    def connecting(self, org_id: str, sender_id: str, attempt: int) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and not sender.removed and sender.status != "connected":
            sender.connecting(org_id=org_id, attempt=attempt, at=datetime.now(UTC))
            self.save(sender)
        return sender

    def qr_issued(self, org_id: str, sender_id: str) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and sender.status not in ("qr_issued", "removed"):
            sender.qr_issued(org_id=org_id, at=datetime.now(UTC))
            self.save(sender)
        return sender

    def banned(self, org_id: str, sender_id: str, reason: str, code: int | str | None = None) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and sender.status not in ("banned", "removed"):
            sender.ban(org_id=org_id, reason=reason, code=code, at=datetime.now(UTC))
            self.save(sender)
        return sender

    def update(self, org_id: str, sender_id: str, name: str | None, quotas: dict | None,
               labels: list[str] | None) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is None or sender.removed:
            return sender
        name = name if name is not None and name != sender.name else None
        quotas = quotas if quotas is not None and quotas != sender.quotas else None
        labels = labels if labels is not None and list(labels) != sender.labels else None
        if name is not None or quotas is not None or labels is not None:
            sender.update(org_id=org_id, name=name, quotas=quotas, labels=labels, at=datetime.now(UTC))
            self.save(sender)
        return sender

    def remove(self, org_id: str, sender_id: str) -> Sender | None:
        sender = self._owned(org_id, sender_id)
        if sender is not None and not sender.removed:
            sender.remove(org_id=org_id, at=datetime.now(UTC))
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
