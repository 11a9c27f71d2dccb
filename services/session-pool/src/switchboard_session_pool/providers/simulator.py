"""The simulator: a real, documented provider for demos and tests. It records every send in
`session_pool.simulator_sends` (one row per message id; `attempts` counts every send it received, so
tests can count duplicates) in the same transaction as the message's outcome,
reports `delivered` and then `read` after configurable delays, fails recipients whose number ends
in 0000 with Meta's code 131026, can make a sender receive an inbound message, and shows the faults
it was told to (simulator_faults.py): provider error codes, latency, refused connections, a QR."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import message as contract
from switchboard_contracts.commands import SimulateInbound
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import deterministic_id
from switchboard_runtime.messaging.publisher import Publisher

from ..domain.outbound import OutboundMessage, SendResult
from ..domain.provider_errors import Action, decide
from ..statuses import SOURCE, status_event
from ..stores.outbound_messages import record_in
from ..tables import SCHEMA
from .simulator_faults import SimulatorFaults, fault_error

UNDELIVERABLE = contract.StatusError(
    code=131026, title="Message undeliverable",
    detail="The simulator does not deliver to numbers ending in 0000.")


RECORD_SENDS = text(f"""
    INSERT INTO {SCHEMA}.simulator_sends (message_id, org_id, sender_id, recipient, text, provider_message_id)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:orgs AS text[]), CAST(:senders AS text[]),
                         CAST(:recipients AS text[]), CAST(:texts AS text[]), CAST(:wamids AS text[]))
    ON CONFLICT (message_id) DO UPDATE SET attempts = {SCHEMA}.simulator_sends.attempts + 1""")


def simulated_wamid(message_id: str) -> str:
    return "wamid.SIM." + hashlib.sha256(message_id.encode()).hexdigest()[:32].upper()


class SimulatorProvider:
    def __init__(self, engine: AsyncEngine, publisher: Publisher, *,
                 delivered_delay: float = 0.05, read_delay: float = 0.2):
        self.engine = engine
        self.faults = SimulatorFaults(engine)
        self.publisher = publisher
        self.delivered_delay = delivered_delay
        self.read_delay = read_delay
        self._tasks: set[asyncio.Task] = set()

    async def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        slow = max((self.faults.latency.get(m.sender_id, 0.0) for m in messages), default=0.0)
        if slow:  # a slow sender has a lane of its own (ProviderRouter.own_lane): only it waits
            await asyncio.sleep(slow)
        results, sent = [], []
        async with self.engine.begin() as conn:  # the send and its outcome, in one transaction
            injected = await self.faults.take_codes(conn, Counter(m.sender_id for m in messages))
            for m in messages:
                codes = injected.get(m.sender_id)
                if codes:
                    results.append(self._fault(m, codes.pop(0)))
                elif m.to.endswith("0000"):
                    results.append(SendResult(m.message_id, ok=False, error=UNDELIVERABLE, recorded=True))
                else:
                    wamid = simulated_wamid(m.message_id)
                    results.append(SendResult(m.message_id, ok=True, provider_message_id=wamid, recorded=True))
                    sent.append((m, wamid))
            if sent:
                await conn.execute(RECORD_SENDS, {
                    "ids": [m.message_id for m, _ in sent], "orgs": [m.org_id for m, _ in sent],
                    "senders": [m.sender_id for m, _ in sent], "recipients": [m.to for m, _ in sent],
                    "texts": [m.text for m, _ in sent], "wamids": [w for _, w in sent]})
            final = [(m, r) for m, r in zip(messages, results, strict=True) if r.recorded]
            if final:
                await record_in(conn, final)
        if sent:
            self._spawn(self._report_progress(sent))
        return results

    @staticmethod
    def _fault(m: OutboundMessage, code: int | str) -> SendResult:
        """An injected provider error, acted on like Meta's (domain/provider_errors.py)."""
        decision = decide(code)
        if decision.action is Action.FAIL:
            return SendResult(m.message_id, ok=False, error=fault_error(code), recorded=True)
        return SendResult(m.message_id, ok=False, error=fault_error(code), retry=decision.action.value,
                          delay=decision.delay)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report_progress(self, sent: list[tuple[OutboundMessage, str]]) -> None:
        """The handset side: delivered after `delivered_delay`, read after `read_delay`."""
        await asyncio.sleep(self.delivered_delay)
        for status, wait in ((contract.Status.DELIVERED, max(self.read_delay - self.delivered_delay, 0)),
                             (contract.Status.READ, 0)):
            now = datetime.now(UTC)
            events = [status_event(m, status, now, provider_message_id=w) for m, w in sent]
            for attempt in range(5):
                try:
                    await self.publisher.publish_many(events)
                    break
                except Exception:  # noqa: BLE001 - NATS away for a moment: try again
                    await asyncio.sleep(0.5 * 2 ** attempt)
            if wait:
                await asyncio.sleep(wait)

    def inbound_event(self, org_id: str, cmd: SimulateInbound, sender_phone: str,
                      correlationid: str, causationid: str) -> CloudEvent:
        wamid = simulated_wamid("inbound:" + cmd.request_id)
        now = datetime.now(UTC)
        data = contract.MessageReceived(
            message_id=deterministic_id("message", cmd.sender_id, wamid),
            provider_message_id=wamid, sender_id=cmd.sender_id, **{"from": cmd.from_},
            to=sender_phone, timestamp=now, type="interactive" if cmd.reply_id else "text", text=cmd.text,
            contact_name=cmd.contact_name, content=_button_reply(cmd))
        return make_envelope(id=contract.received_event_id(cmd.sender_id, wamid),
                             source=SOURCE, type=contract.RECEIVED, orgid=org_id, data=data,
                             subject=data.message_id, correlationid=correlationid,
                             causationid=causationid, time=now)

    async def close(self) -> None:
        await self.faults.stop()
        for task in list(self._tasks):
            task.cancel()


def _button_reply(cmd: SimulateInbound) -> dict | None:
    """A tapped reply button, as Meta's webhook carries it (`interactive.button_reply`)."""
    if not cmd.reply_id:
        return None
    return {"type": "button_reply", "button_reply": {"id": cmd.reply_id, "title": cmd.text}}
