"""WAHA (WhatsApp HTTP API, https://waha.devlike.pro) over WhatsApp Web sessions: the session's life
(create or start with our webhook, stop, status, raw QR value, pairing code; waha_sessions.py) and
sends (text, media by link; waha_sending.py, the request built by waha_body.py), over one pooled httpx
client per sender with its `X-Api-Key` (waha_http.py).

A session is one phone: a sender's messages go one at a time and in order, each after a human-like
pause shown as "typing…" (domain/pacing.py); different senders go concurrently. Once a message of a
sender must be tried again (session down, WAHA unreachable, rate limited), the sender's later messages
in the batch are held back with it, so that order is kept."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence

from switchboard_runtime.sealing import Sealer

from ..domain.outbound import OutboundMessage, SendResult
from ..domain.pacing import HumanPacing
from ..domain.sender import Sender
from .waha_http import WahaHttp
from .waha_sending import WahaSending
from .waha_sessions import WEBHOOK_EVENTS, SessionState, WahaSessions


class WahaProvider:
    def __init__(self, sealer: Sealer | None, senders: dict[str, Sender], *, timeout: float = 15.0,
                 pacing: HumanPacing | None = None, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 rng: random.Random | None = None):
        self.http = WahaHttp(sealer, timeout)
        self.sessions = WahaSessions(self.http)
        self.sending = WahaSending(self.http, senders, pacing=pacing, sleep=sleep, rng=rng)

    # --- sessions ------------------------------------------------------------------------------

    async def start(self, sender: Sender, webhook_url: str | None = None,
                    webhook_events: Sequence[str] = WEBHOOK_EVENTS) -> SessionState:
        return await self.sessions.start(sender, webhook_url, webhook_events)

    async def stop(self, sender: Sender) -> SessionState:
        return await self.sessions.stop(sender)

    async def status(self, sender: Sender) -> SessionState:
        return await self.sessions.status(sender)

    async def qr(self, sender: Sender) -> str | None:
        return await self.sessions.qr(sender)

    async def pairing_code(self, sender: Sender, phone_number: str) -> str:
        return await self.sessions.pairing_code(sender, phone_number)

    # --- sending -------------------------------------------------------------------------------

    async def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        return await self.sending.send(messages)

    async def close(self) -> None:
        await self.http.close()
