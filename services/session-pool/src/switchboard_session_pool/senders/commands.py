"""Handling sender commands: registration, changes, connection, pause and resume, removal, and the
simulator's inbound messages and faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import ValidationError

from switchboard_contracts import commands
from switchboard_runtime.eventstore import call
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.relay import Relay

from switchboard_runtime.logs import get_logger

from ..application import SendersApp
from ..domain.sender import Sender
from ..providers.simulator import SimulatorProvider
from ..providers.waha import WahaProvider
from ..providers.waha_http import WahaError
from .connections import Connector
from .routes import SenderRoutes

log = get_logger(__name__)


class SenderCommands:
    def __init__(self, app: SendersApp, relay: Relay, simulator: SimulatorProvider, publisher: Publisher,
                 routes: SenderRoutes, connector: Connector, waha: WahaProvider,
                 on_change: Callable[[Sender], None] = lambda sender: None):
        self.app, self.relay, self.simulator, self.publisher = app, relay, simulator, publisher
        self.routes, self.connector, self.waha = routes, connector, waha
        self.on_change = on_change  # tells the dispatcher a sender changed (pause, connection)
        self._stopping: set[asyncio.Task] = set()  # WAHA sessions of removed senders being stopped

    async def _changed(self, sender: Sender | None) -> None:
        if sender is not None:
            self.relay.wake()
            self.on_change(sender)

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        for d in deliveries:
            try:
                ce = d.event()
                if ce.type == commands.REGISTER_SENDER:
                    cmd = commands.RegisterSender.model_validate(ce.data)
                    sender = await call(self.app.register, ce.orgid, cmd)
                    self.relay.wake()
                    if sender.org_id == ce.orgid:
                        await self.routes.publish(sender)  # a failure here redelivers the command
                        if sender.status == "registered":  # Meta: check the token; WAHA: start the session
                            await self.connector.schedule(sender, "registered", msg_id=f"connect:{sender.id}")
                elif ce.type in (commands.PAUSE_SENDER, commands.RESUME_SENDER):
                    if ce.type == commands.PAUSE_SENDER:
                        cmd = commands.PauseSender.model_validate(ce.data)
                        sender = await call(self.app.pause, ce.orgid, cmd.sender_id, cmd.reason)
                    else:
                        cmd = commands.ResumeSender.model_validate(ce.data)
                        sender = await call(self.app.resume, ce.orgid, cmd.sender_id)
                    if sender is None:
                        outcome.reject(d, f"no sender {cmd.sender_id} in this organization")
                        continue
                    await self._changed(sender)
                elif ce.type in (commands.UPDATE_SENDER, commands.REMOVE_SENDER, commands.CONNECT_SENDER,
                                 commands.SIMULATE_SENDER):
                    reason = await self._manage(ce)
                    if reason:
                        outcome.reject(d, reason)
                elif ce.type == commands.SIMULATE_INBOUND:
                    cmd = commands.SimulateInbound.model_validate(ce.data)
                    sender = await call(self.app.find, cmd.sender_id)
                    if sender is None or sender.org_id != ce.orgid or sender.provider != "simulator":
                        outcome.reject(d, f"no simulator sender {cmd.sender_id} in this organization")
                        continue
                    await self.publisher.publish(self.simulator.inbound_event(
                        ce.orgid, cmd, sender.phone_number, ce.correlationid, ce.id))
                else:
                    outcome.reject(d, f"unknown sender command type {ce.type!r}")
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"invalid sender command: {exc}")
        return outcome

    async def _stop_session(self, sender) -> None:
        try:
            await self.waha.stop(sender)
        except WahaError as exc:  # the session may already be gone: removal stands
            log.warning("could not stop the removed sender's WAHA session", sender_id=sender.id, reason=exc.reason)
        except Exception as exc:  # noqa: BLE001 - a background task: say why, never lose the reason
            log.warning("could not stop the removed sender's WAHA session", sender_id=sender.id, error=repr(exc))

    async def _manage(self, ce) -> str | None:
        """Update, remove, connect, simulate; returns why the command was rejected, if it was."""
        org = ce.orgid
        if ce.type == commands.UPDATE_SENDER:
            cmd = commands.UpdateSender.model_validate(ce.data)
            sender = await call(self.app.update, org, cmd.sender_id, cmd.name,
                                cmd.quotas.model_dump() if cmd.quotas is not None else None, cmd.labels)
        elif ce.type == commands.REMOVE_SENDER:
            cmd = commands.RemoveSender.model_validate(ce.data)
            sender = await call(self.app.remove, org, cmd.sender_id)
            if sender is not None:
                await self.routes.remove(sender)
                if sender.provider == "waha":  # in the background: a WAHA that does not answer (a
                    # connect timeout) must not hold up every other sender command behind it
                    task = asyncio.create_task(self._stop_session(sender), name=f"waha-stop-{sender.id}")
                    self._stopping.add(task)
                    task.add_done_callback(self._stopping.discard)
        elif ce.type == commands.CONNECT_SENDER:
            cmd = commands.ConnectSender.model_validate(ce.data)
            sender = await call(self.app.find, cmd.sender_id)
            if sender is not None and sender.org_id == org and not sender.removed:
                await self.connector.schedule(sender, "requested", msg_id=f"connect:{ce.id}")
        else:
            cmd = commands.SimulateSender.model_validate(ce.data)
            sender = await call(self.app.find, cmd.sender_id)
            if sender is None or sender.org_id != org or sender.provider != "simulator":
                return f"no simulator sender {cmd.sender_id} in this organization"
            await self.simulator.faults.apply(cmd)
            if cmd.disconnect:
                sender = await call(self.app.disconnected, org, cmd.sender_id, "simulated disconnection", "simulated")
                await self.connector.schedule(sender, "simulated disconnection", msg_id=f"reconnect:{ce.id}")
            elif cmd.issue_qr:
                sender = await call(self.app.qr_issued, org, cmd.sender_id)
            elif cmd.scan_qr:
                sender = await call(self.app.connected, org, cmd.sender_id)
        if sender is None or sender.org_id != org:
            return f"no sender {cmd.sender_id} in this organization"
        await self._changed(sender)
        return None
