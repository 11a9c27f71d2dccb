"""Handling sender commands: registration and simulated inbound messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from switchboard_contracts import commands
from switchboard_runtime.eventstore import call
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.relay import Relay

from .application import SendersApp
from .domain.sender import Sender
from .providers.simulator import SimulatorProvider
from .routes import SenderRoutes


class SenderCommands:
    def __init__(self, app: SendersApp, relay: Relay, simulator: SimulatorProvider, publisher: Publisher,
                 routes: SenderRoutes, on_change: Callable[[Sender], None] = lambda sender: None,
                 connect: Callable[[Sender], Awaitable[Sender]] | None = None):
        self.app, self.relay, self.simulator, self.publisher = app, relay, simulator, publisher
        self.routes = routes
        self.on_change = on_change  # tells the dispatcher a sender changed (pause, connection)
        self.connect = connect  # checks a provider sender's credentials with the provider

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
                        if self.connect is not None and sender.status == "registered":
                            await self._changed(await self.connect(sender))
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
