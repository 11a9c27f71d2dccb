"""What every provider takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from switchboard_contracts.message import StatusError


@dataclass(frozen=True)
class OutboundMessage:
    message_id: str
    org_id: str
    sender_id: str
    sender_phone: str
    to: str
    text: str
    client_ref: str | None
    correlationid: str
    causationid: str
    traceparent: str | None = None


@dataclass(frozen=True)
class SendResult:
    message_id: str
    ok: bool
    provider_message_id: str | None = None
    error: StatusError | None = None


class Provider(Protocol):
    async def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        """Send the messages (one sender's or many); one result per message, in order."""
        ...
