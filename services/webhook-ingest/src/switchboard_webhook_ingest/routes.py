"""The sender routes, kept in memory from the KV bucket the session-pool writes (watched live), with
their webhook secrets unsealed, and indexed by WABA for Meta's template updates; a miss is checked
against the bucket before it counts as unknown."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import nats.errors
from nats.js.errors import KeyNotFoundError, NoKeysError
from pydantic import ValidationError

from switchboard_contracts.sender import Provider, SenderRoute, route_key
from switchboard_runtime.logs import get_logger
from switchboard_runtime.sealing import Sealer, SealingError

from .domain.meta import SenderRef
from .ingest import Unavailable

log = get_logger("webhook-ingest.routes")


@dataclass(frozen=True)
class Route:
    ref: SenderRef
    secrets: dict[str, str]  # app_secret, verify_token (meta-cloud); webhook_hmac_key (waha)
    waba_id: str | None = None  # meta-cloud: the account the number belongs to


META_PREFIX = f"{Provider.META_CLOUD.value}."


class RouteTable:
    def __init__(self, kv, sealer: Sealer):
        self.kv, self.sealer = kv, sealer
        self.routes: dict[str, Route] = {}
        self.by_waba: dict[str, set[str]] = {}  # WABA id → keys of its meta-cloud routes
        self.loaded = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._scan: asyncio.Task | None = None  # the bucket scan in progress (callers share it)

    def _decode(self, key: str, raw: bytes | None) -> Route | None:
        if not raw:
            return None
        try:
            route = SenderRoute.model_validate_json(raw)
            secrets = self.sealer.unseal(route.sealed) if route.sealed else {}
        except (ValidationError, SealingError) as exc:
            log.error("unusable sender route", key=key, error=str(exc))
            return None
        return Route(SenderRef(route.org_id, route.sender_id), secrets, route.waba_id)

    def _set(self, key: str, route: Route | None) -> None:
        old = self.routes.pop(key, None)
        if old is not None and old.waba_id and (keys := self.by_waba.get(old.waba_id)):
            keys.discard(key)
            if not keys:
                del self.by_waba[old.waba_id]
        if route is None:
            return
        self.routes[key] = route
        if route.waba_id and key.startswith(META_PREFIX):
            self.by_waba.setdefault(route.waba_id, set()).add(key)

    async def start(self) -> None:
        watcher = await self.kv.watchall()
        self._task = asyncio.create_task(self._follow(watcher))

    async def _follow(self, watcher) -> None:
        async for entry in watcher:  # initial values, then a None marker, then live updates
            if entry is None:
                self.loaded.set()
                continue
            self._set(entry.key, self._decode(entry.key, entry.value) if entry.operation is None else None)

    async def stop(self) -> None:
        for task in (self._task, self._scan):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def find(self, provider: Provider, account: str) -> Route | None:
        key = route_key(provider, account)
        route = self.routes.get(key)
        if route is None:  # the watch may lag a registration by a moment: ask the bucket itself
            with contextlib.suppress(KeyNotFoundError):
                entry = await self.kv.get(key)
                route = self._decode(key, entry.value)
                if route:
                    self._set(key, route)
        return route

    async def of_waba(self, waba_id: str) -> list[Route]:
        """The meta-cloud routes of a WhatsApp Business Account (its numbers, in every organization
        that registered one). None known: the bucket's keys the watch has not shown yet are read."""
        found = self._of_waba(waba_id)
        if not found:
            if self._scan is None or self._scan.done():  # one scan at a time, whoever asks
                self._scan = asyncio.create_task(self._read_unseen())
                self._scan.add_done_callback(lambda t: t.cancelled() or t.exception())  # seen by its callers
            try:
                await asyncio.shield(self._scan)
            except (nats.errors.Error, asyncio.TimeoutError) as exc:  # answer 503: the provider retries
                raise Unavailable(f"the sender routes could not be read: {exc!r}") from exc
            found = self._of_waba(waba_id)
        return found

    def _of_waba(self, waba_id: str) -> list[Route]:
        return [self.routes[k] for k in sorted(self.by_waba.get(waba_id, ()))]

    async def _read_unseen(self) -> None:
        try:
            keys = await self.kv.keys()
        except NoKeysError:
            return
        for key in keys:
            if key.startswith(META_PREFIX) and key not in self.routes:
                with contextlib.suppress(KeyNotFoundError):
                    entry = await self.kv.get(key)
                    if route := self._decode(key, entry.value):
                        self._set(key, route)

    def meta_secrets(self, name: str) -> set[str]:
        """Every distinct meta-cloud secret of one kind (app_secret, verify_token)."""
        return {r.secrets[name] for k, r in self.routes.items() if k.startswith(META_PREFIX) and r.secrets.get(name)}
