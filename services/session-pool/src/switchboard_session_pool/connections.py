"""Connecting provider senders: a meta-cloud sender's credentials are checked with the Graph API at
registration; it becomes `connected` (with its display number) or `disconnected` with the provider's
reason, visible in the API."""

from __future__ import annotations

from switchboard_runtime.eventstore import call

from .application import SendersApp
from .domain.sender import Sender
from .providers.meta_cloud import MetaCloudProvider


class Connector:
    def __init__(self, app: SendersApp, meta: MetaCloudProvider):
        self.app, self.meta = app, meta

    async def __call__(self, sender: Sender) -> Sender:
        if sender.provider != "meta-cloud":
            return sender  # simulator senders connect at registration; WAHA sessions with the WAHA work
        result = await self.meta.connect(sender)
        org, sid = sender.org_id, str(sender.id)
        if result.ok:
            return await call(self.app.connected, org, sid, result.phone_number) or sender
        return await call(self.app.disconnected, org, sid, result.reason or "refused", result.code) or sender
