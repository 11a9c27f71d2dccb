"""What every provider is: it sends outbound messages and answers one result per message (both
forms live in domain/outbound.py; this module re-exports neither)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..domain.outbound import OutboundMessage, SendResult


class Provider(Protocol):
    async def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        """Send the messages (one sender's or many); one result per message, in order."""
        ...
