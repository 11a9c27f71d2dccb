"""Publishing sender routes: which sender owns a Meta phone_number_id or a WAHA session, with its
sealed webhook secrets, in the KV bucket webhook-ingest watches."""

from __future__ import annotations

from nats.js.errors import KeyWrongLastSequenceError

from switchboard_contracts.sender import SenderRoute, route_key
from switchboard_runtime.logs import get_logger

from .domain.sender import Sender

log = get_logger("session-pool.routes")


class SenderRoutes:
    def __init__(self, kv):
        self.kv = kv

    async def publish(self, sender: Sender) -> None:
        """Create the route of a provider sender (idempotent; never takes over another sender's)."""
        if not sender.account or sender.provider == "simulator":
            return
        key = route_key(sender.provider, sender.account)
        value = SenderRoute(org_id=sender.org_id, sender_id=str(sender.id), provider=sender.provider,
                            sealed=sender.sealed_credentials).model_dump_json().encode()
        try:
            await self.kv.create(key, value)
        except KeyWrongLastSequenceError:
            current = SenderRoute.model_validate_json((await self.kv.get(key)).value)
            if current.sender_id == str(sender.id):
                await self.kv.put(key, value)
            else:
                log.error("provider account already routed to another sender; route not taken over",
                          sender_id=str(sender.id), owner=current.sender_id, provider=sender.provider)
