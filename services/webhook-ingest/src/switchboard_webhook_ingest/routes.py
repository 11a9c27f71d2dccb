"""The sender routes, kept in memory from the KV bucket the session-pool writes (watched live), with
their webhook secrets unsealed; a miss is checked against the bucket before it counts as unknown."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from nats.js.errors import KeyNotFoundError
from pydantic import ValidationError

from switchboard_contracts.sender import Provider, SenderRoute, route_key
from switchboard_runtime.logs import get_logger
from switchboard_runtime.sealing import Sealer, SealingError

from .domain.meta import SenderRef

log = get_logger("webhook-ingest.routes")


@dataclass(frozen=True)
class Route:
    ref: SenderRef
    secrets: dict[str, str]  # app_secret, verify_token (meta-cloud); webhook_hmac_key (waha)


class RouteTable:
    def __init__(self, kv, sealer: Sealer):
        self.kv, self.sealer = kv, sealer
        self.routes: dict[str, Route] = {}
        self.loaded = asyncio.Event()
        self._task: asyncio.Task | None = None

    def _decode(self, key: str, raw: bytes | None) -> Route | None:
        if not raw:
            return None
        try:
            route = SenderRoute.model_validate_json(raw)
            secrets = self.sealer.unseal(route.sealed) if route.sealed else {}
        except (ValidationError, SealingError) as exc:
            log.error("unusable sender route", key=key, error=str(exc))
            return None
        return Route(SenderRef(route.org_id, route.sender_id), secrets)

    async def start(self) -> None:
        watcher = await self.kv.watchall()
        self._task = asyncio.create_task(self._follow(watcher))

    async def _follow(self, watcher) -> None:
        async for entry in watcher:  # initial values, then a None marker, then live updates
            if entry is None:
                self.loaded.set()
                continue
            route = self._decode(entry.key, entry.value) if entry.operation is None else None
            if route is None:
                self.routes.pop(entry.key, None)
            else:
                self.routes[entry.key] = route

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def find(self, provider: Provider, account: str) -> Route | None:
        key = route_key(provider, account)
        route = self.routes.get(key)
        if route is None:  # the watch may lag a registration by a moment: ask the bucket itself
            with contextlib.suppress(KeyNotFoundError):
                entry = await self.kv.get(key)
                route = self._decode(key, entry.value)
                if route:
                    self.routes[key] = route
        return route

    def meta_secrets(self, name: str) -> set[str]:
        """Every distinct meta-cloud secret of one kind (app_secret, verify_token)."""
        prefix = f"{Provider.META_CLOUD.value}."
        return {r.secrets[name] for k, r in self.routes.items() if k.startswith(prefix) and r.secrets.get(name)}
