"""Publishing sender routes: which sender owns a Meta phone_number_id or a WAHA session, with its
sealed webhook secrets, in the KV bucket webhook-ingest watches."""

from __future__ import annotations

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError

from switchboard_contracts.sender import SenderRoute, route_key
from switchboard_runtime.logs import get_logger

from ..domain.sender import Sender

log = get_logger("session-pool.routes")


def route_of(sender: Sender) -> SenderRoute:
    """The route of a provider sender: its organization, its sealed secrets, and (Meta) its WABA,
    which template updates name instead of a number."""
    return SenderRoute(org_id=sender.org_id, sender_id=str(sender.id), provider=sender.provider,
                       sealed=sender.sealed_credentials,
                       waba_id=sender.config.get("waba_id") if sender.provider == "meta-cloud" else None)


class SenderRoutes:
    def __init__(self, kv):
        self.kv = kv

    async def publish(self, sender: Sender) -> None:
        """Create the route of a provider sender (idempotent; never takes over another sender's)."""
        if not sender.account or sender.provider == "simulator":
            return
        key = route_key(sender.provider, sender.account)
        value = route_of(sender).model_dump_json().encode()
        try:
            await self.kv.create(key, value)
        except KeyWrongLastSequenceError:
            current = SenderRoute.model_validate_json((await self.kv.get(key)).value)
            if current.sender_id == str(sender.id):
                await self.kv.put(key, value)
            else:
                log.error("provider account already routed to another sender; route not taken over",
                          sender_id=str(sender.id), owner=current.sender_id, provider=sender.provider)

    async def refresh(self, sender: Sender) -> None:
        """Rewrite a sender's own route when it differs from what publish() writes now (a route
        written before routes named their WABA, say); another sender's route stays as it is."""
        if not sender.account or sender.provider == "simulator":
            return
        key = route_key(sender.provider, sender.account)
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return
        current, wanted = SenderRoute.model_validate_json(entry.value), route_of(sender)
        if current.sender_id != wanted.sender_id or current == wanted:
            return
        try:
            await self.kv.update(key, wanted.model_dump_json().encode(), last=entry.revision)
        except KeyWrongLastSequenceError:  # changed meanwhile (another replica rewrote it): theirs stands
            return
        log.info("sender route rewritten", sender_id=str(sender.id), provider=sender.provider)

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
