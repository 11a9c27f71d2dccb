"""Connecting senders, and reconnecting them with exponential backoff. Each attempt is a
`connection.attempt` command in the work queue: a failed attempt is put back with `nak(delay)` (5 s,
10 s, 20 s … 5 min), so attempts survive restarts and exactly one replica makes each. Every attempt
and its outcome is an event (`sender.connecting`, then `connected`, `qr_issued` or `disconnected` with
`attempt` and `retry_in_seconds`). A Meta number is connected when the Graph API accepts its token; a
WAHA session when it is WORKING (a session waiting for its QR is `qr_issued` until scanned)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from switchboard_contracts import commands
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_runtime.eventstore import call
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery
from switchboard_runtime.messaging.publisher import Publisher

from ..application import SendersApp
from ..domain.reconnect import ReconnectPolicy
from ..domain.sender import Sender
from ..providers.config_errors import INVALID_CONFIG
from ..providers.meta_cloud import MetaCloudProvider
from ..providers.simulator_faults import SimulatorFaults
from ..providers.waha import WahaProvider
from ..providers.waha_http import WahaError

log = get_logger(__name__)
SOURCE = "switchboard/session-pool"


@dataclass(frozen=True)
class Link:
    """The outcome of one attempt: connected, qr (waiting for a scan), starting, banned, refused (for
    good), or transient (worth trying again)."""

    state: str
    phone_number: str | None = None
    reason: str | None = None
    code: int | str | None = None


def phone_of(me: str | None) -> str | None:
    """`15551234567@c.us` → `+15551234567`."""
    digits = "".join(c for c in (me or "").split("@")[0].split(":")[0] if c.isdigit())
    return f"+{digits}" if digits else None


class Connector:
    def __init__(self, app: SendersApp, publisher: Publisher, *, meta: MetaCloudProvider, waha: WahaProvider,
                 faults: SimulatorFaults, policy: ReconnectPolicy, webhook_url: str | None,
                 on_change: Callable[[Sender], None], wake: Callable[[], None]):
        self.app, self.publisher = app, publisher
        self.meta, self.waha, self.faults = meta, waha, faults
        self.policy, self.webhook_url = policy, webhook_url
        self.on_change, self.wake = on_change, wake

    async def schedule(self, sender: Sender, reason: str, msg_id: str | None = None, verify: bool = False) -> None:
        """Start an attempt chain (a command; JetStream's duplicate window drops a repeated msg_id)."""
        cmd = commands.ConnectionAttempt(sender_id=str(sender.id), reason=reason, verify=verify)
        ce = make_envelope(id=msg_id or new_id(), source=SOURCE, type=commands.CONNECTION_ATTEMPT,
                           orgid=sender.org_id, data=cmd, subject=str(sender.id))
        await self.publisher.publish(ce)

    async def changed(self, sender: Sender | None) -> Sender | None:
        if sender is not None:
            self.wake()
            self.on_change(sender)
        return sender

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        """Attempts run concurrently: one hanging provider never delays another sender's attempt."""
        outcome = BatchOutcome()
        results = await asyncio.gather(*(self._attempt(d) for d in deliveries), return_exceptions=True)
        for d, result in zip(deliveries, results, strict=True):
            if isinstance(result, (BadMessage, ValidationError)):
                outcome.reject(d, f"invalid connection attempt: {result}")
            elif isinstance(result, BaseException):
                log.warning("connection attempt failed; retrying", error=repr(result))
                outcome.defer(d)
                await d.raw.nak(delay=self.policy.base_seconds)
            elif result is not None:  # put back: the next attempt is due after this delay
                outcome.defer(d)
                await d.raw.nak(delay=result)
        return outcome

    async def _attempt(self, d: Delivery) -> float | None:
        ce = d.event()
        cmd = commands.ConnectionAttempt.model_validate(ce.data)
        sender = await call(self.app.find, cmd.sender_id)
        if sender is None or sender.org_id != ce.orgid or sender.removed:
            return None
        if sender.status == "connected" and not (cmd.verify and d.num_delivered == 1):
            return None
        attempt = d.num_delivered
        org, sid = ce.orgid, cmd.sender_id
        if sender.status != "connected":
            await self.changed(await call(self.app.connecting, org, sid, attempt))
        link = await self.link(sender)
        if link.state == "starting":  # the provider is still bringing the session up: look again soon
            return min(self.policy.base_seconds, 2.0)
        if link.state == "connected":
            await self.changed(await call(self.app.connected, org, sid, link.phone_number))
            return None
        if link.state == "qr":
            await self.changed(await call(self.app.qr_issued, org, sid))
            return None
        if link.state == "banned":  # until the provider lifts it; `POST …/connect` checks again
            await self.changed(await call(self.app.banned, org, sid, link.reason or "banned", link.code))
            return None
        if link.state == "transient" and not self.policy.gives_up(attempt):
            delay = self.policy.delay(attempt)
            await self.changed(await call(self.app.disconnected, org, sid, link.reason or "connection failed",
                                           link.code, attempt=attempt, retry_in=delay))
            return delay
        reason = link.reason or "connection refused"
        if link.state == "transient":
            reason = f"{reason} (gave up after {attempt} attempts)"
        await self.changed(await call(self.app.disconnected, org, sid, reason, link.code, attempt=attempt,
                                       retry_in=None))
        return None

    async def link(self, sender: Sender) -> Link:
        if sender.provider == "simulator":
            if await self.faults.refuse_connection(str(sender.id)):
                return Link("transient", reason="simulated connection failure")
            if await self.faults.qr(str(sender.id)):
                return Link("qr")
            return Link("connected")
        if sender.provider == "meta-cloud":
            result = await self.meta.connect(sender)
            if result.ok:
                return Link("connected", phone_number=result.phone_number)
            if result.blocked:
                return Link("banned", reason=result.reason, code=result.code)
            return Link("transient" if result.transient else "refused", reason=result.reason, code=result.code)
        if sender.provider == "waha":
            try:
                state = await self.waha.start(sender, webhook_url=self.webhook_url)
            except WahaError as exc:
                permanent = exc.code in (401, 403, "credentials_unavailable", "not_configured", INVALID_CONFIG)
                return Link("refused" if permanent else "transient", reason=exc.reason, code=exc.code)
            if state.status == "WORKING":
                return Link("connected", phone_number=phone_of(state.me))
            if state.status == "SCAN_QR_CODE":
                return Link("qr")
            if state.status == "STARTING":
                return Link("starting")
            return Link("transient", reason=state.reason or f"WhatsApp Web session is {state.status}",
                        code=state.status)
        return Link("refused", reason=f"unknown provider {sender.provider!r}")
