"""Answers to the gateway about one sender (request/reply on `sb.rpc.session-pool.*`, queue group
`session-pool`: any replica answers): the pairing QR, a pairing code, and stats; a Meta sender's
message templates (template_queries.py). Requests are answered concurrently (up to a bound, then one
by one), so one sender's hanging provider never holds up the answers about another."""

from __future__ import annotations

import asyncio
import secrets

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import sender_rpc
from switchboard_contracts.sender_rpc import SenderReply, SenderRequest, failure
from switchboard_runtime.eventstore import call
from switchboard_runtime.logs import get_logger

from ..application import SendersApp
from ..dispatch.dispatcher import Dispatcher
from ..domain.health import Health
from ..domain.sender import Sender
from ..providers.simulator_faults import SimulatorFaults
from ..providers.waha import WahaProvider
from ..providers.waha_http import WahaError
from ..tables import SCHEMA
from .template_queries import TemplateQueries

log = get_logger(__name__)
COUNTS = text(f"""
    SELECT status, count(*) AS n FROM {SCHEMA}.outbound_messages
    WHERE sender_id = :s AND state = 'done' GROUP BY status""")
NO_QR = failure(404, "not_found", "no pairing QR is pending for this sender")
MAX_IN_FLIGHT = 32
STOP_GRACE_SECONDS = 5.0


class SenderQueries:
    def __init__(self, app: SendersApp, engine: AsyncEngine, dispatcher: Dispatcher, waha: WahaProvider,
                 faults: SimulatorFaults, templates: TemplateQueries | None = None):
        self.app, self.engine, self.dispatcher, self.waha, self.faults = app, engine, dispatcher, waha, faults
        self.templates = templates
        self._subs = []
        self._in_flight: set[asyncio.Task] = set()

    async def start(self, nc) -> None:
        for subject, fn in ((sender_rpc.QR, self.qr), (sender_rpc.PAIRING_CODE, self.pairing_code),
                            (sender_rpc.STATS, self.stats), *(self.templates.handlers() if self.templates else ())):
            self._subs.append(await nc.subscribe(subject, queue=sender_rpc.QUEUE_GROUP,
                                                 cb=self._concurrently(self._answer(fn))))

    async def stop(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()
        if self._in_flight:  # answers under way get a moment to finish, then are cut
            _, late = await asyncio.wait(set(self._in_flight), timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def _concurrently(self, reply):
        """A subscription's callbacks run one at a time: each answer runs as a task of its own instead
        (past MAX_IN_FLIGHT, inline: the subscription waits, and so does the caller)."""
        async def spawn(msg) -> None:
            if len(self._in_flight) >= MAX_IN_FLIGHT:
                await reply(msg)
                return
            task = asyncio.create_task(reply(msg), name="sender query")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return spawn

    def _answer(self, fn):
        async def reply(msg) -> None:
            try:
                request = SenderRequest.model_validate_json(msg.data)
                sender = await call(self.app.find, request.sender_id)
                if sender is None or sender.org_id != request.org_id or sender.removed:
                    answer = failure(404, "not_found", "sender not found")
                else:
                    answer = await fn(sender, request)
            except ValidationError as exc:
                answer = failure(400, "bad_request", f"invalid request: {exc}")
            except WahaError as exc:
                answer = (failure(422, "validation_error", f"WAHA: {exc.reason}") if exc.code == "invalid_phone_number"
                          else failure(409, "conflict", f"WAHA: {exc.reason}") if exc.code in (404, 422)
                          else failure(502, "provider_error", f"WAHA: {exc.reason}"))
            except Exception as exc:  # noqa: BLE001 - answer, never leave the caller waiting
                log.warning("sender query failed", error=repr(exc))
                answer = failure(503, "unavailable", "the session-pool could not answer; retry later")
            await msg.respond(answer.model_dump_json().encode())
        return reply

    async def qr(self, sender: Sender, request: SenderRequest) -> SenderReply:
        if sender.provider == "meta-cloud":
            return failure(409, "conflict", "meta-cloud senders do not pair with a QR")
        if sender.status != "qr_issued":
            return NO_QR
        value = await (self.faults.qr(str(sender.id)) if sender.provider == "simulator" else self.waha.qr(sender))
        return SenderReply(ok=True, data={"qr": value}) if value else NO_QR

    async def pairing_code(self, sender: Sender, request: SenderRequest) -> SenderReply:
        if sender.provider == "meta-cloud":
            return failure(409, "conflict", "meta-cloud senders do not pair with a code")
        if sender.status == "connected":
            return failure(409, "conflict", "the sender is already connected")
        if sender.provider == "simulator":
            code = "-".join(secrets.token_hex(2).upper() for _ in range(2))
        else:
            code = await self.waha.pairing_code(sender, request.phone_number or "")
        return SenderReply(ok=True, data={"code": code})

    async def stats(self, sender: Sender, request: SenderRequest) -> SenderReply:
        sid = str(sender.id)
        async with self.engine.connect() as conn:
            counts = {r.status: r.n for r in await conn.execute(COUNTS, {"s": sid})}
        health = self.dispatcher.health.get(sid) or Health()
        quota = await self.dispatcher.quotas.usage(sid, self.dispatcher.admission.ledger(sid))
        return SenderReply(ok=True, data={
            "status": sender.lifecycle, "sent": counts.get("sent", 0), "failed": counts.get("failed", 0),
            "expired": counts.get("expired", 0),
            "health": {"score": round(health.score, 1), "consecutive_failures": health.consecutive_failures,
                       "selectable": health.selectable},
            "quota": quota})
