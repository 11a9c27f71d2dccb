"""Publishing sender routes: which sender owns a Meta phone_number_id or a WAHA session, with its
sealed webhook secrets, in the KV bucket webhook-ingest watches."""

from __future__ import annotations

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError

from switchboard_contracts.sender import SenderRoute, route_key
from switchboard_runtime.logs import get_logger

from ..domain.sender import Sender

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

    async def remove(self, sender: Sender) -> None:
        """Drop a removed sender's route (only its own: never another sender's)."""
        if not sender.account or sender.provider == "simulator":
            return
        key = route_key(sender.provider, sender.account)
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return
        if SenderRoute.model_validate_json(entry.value).sender_id == str(sender.id):
            await self.kv.delete(key, last=entry.revision)

    async def provider_sender_ids(self) -> list[str]:
        """Every routed (Meta or WAHA) sender, in every organization."""
        try:
            keys = await self.kv.keys()
        except NoKeysError:
            return []
        ids = []
        for key in keys:
            try:
                entry = await self.kv.get(key)
            except KeyNotFoundError:
                continue
            ids.append(SenderRoute.model_validate_json(entry.value).sender_id)
        return ids
