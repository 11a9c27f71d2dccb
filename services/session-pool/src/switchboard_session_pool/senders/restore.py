"""Restoring senders on start: every provider sender (Meta or WAHA, as routed) gets its route rewritten
if an older version wrote it (without its WABA, say), and one that was connected has its Meta token
or WAHA session checked again — one attempt per sender and version, whichever replica starts first
(the attempt's command id dedupes the others)."""

from __future__ import annotations

from switchboard_runtime.eventstore import call

from ..application import SendersApp
from .connections import Connector
from .routes import SenderRoutes


async def restore(app: SendersApp, routes: SenderRoutes, connector: Connector) -> None:
    for sender_id in await routes.provider_sender_ids():
        sender = await call(app.find, sender_id)
        if sender is None or sender.removed:
            continue
        await routes.refresh(sender)
        if sender.status == "connected":
            await connector.schedule(sender, "restore", msg_id=f"restore:{sender_id}:{sender.version}", verify=True)
