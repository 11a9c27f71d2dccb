"""One provider per sender kind: messages go to the provider of their sender, concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from switchboard_contracts.message import StatusError

from ..domain.outbound import OutboundMessage, SendResult
from ..domain.sender import Sender
from .base import Provider

NO_PROVIDER = StatusError(code="provider_unavailable", title="No provider for this sender",
                          detail="Sending through this kind of sender is not available.")


class ProviderRouter:
    def __init__(self, providers: dict[str, Provider], senders: dict[str, Sender],
                 slow: Callable[[str], bool] = lambda sender_id: False):
        self.providers, self.senders, self.slow = providers, senders, slow

    def own_lane(self, sender: Sender) -> bool:
        """Whether the sender's messages need a send lane of their own: senders that talk to the
        network each (a hanging one holds only itself), and simulator senders told to go slow."""
        return sender.provider != "simulator" or self.slow(str(sender.id))

    async def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        results: list[SendResult | None] = [None] * len(messages)
        groups: dict[str, list[int]] = {}
        for i, m in enumerate(messages):
            sender = self.senders.get(m.sender_id)
            kind = sender.provider if sender else ""
            if kind in self.providers:
                groups.setdefault(kind, []).append(i)
            else:
                results[i] = SendResult(m.message_id, ok=False, error=NO_PROVIDER)
        sent = await asyncio.gather(*(self.providers[k].send([messages[i] for i in idx]) for k, idx in groups.items()))
        for idx, group_results in zip(groups.values(), sent, strict=True):
            for i, r in zip(idx, group_results, strict=True):
                results[i] = r
        return results  # type: ignore[return-value]
