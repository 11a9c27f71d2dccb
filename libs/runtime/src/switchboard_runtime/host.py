"""The service host: how every service process runs, so that a composition root only says what the
service is made of.

`hosted(name, SettingsClass, wire)` gives a service its `serve(stop, settings=None)`. `wire(host,
settings)` builds the parts and hands them to the host: resources that are open once built
(`closing`, and the shortcuts `database`, `event_store`, `bus`) and components that run
(`add`, `task`, `consumer`, `http`, `step`). The host then configures logging and tracing, starts the
components in the order they were added, beats the heartbeat, waits for the stop signal (or for a
component that must not end to end), and stops everything in reverse order — also when wiring or
start-up fails halfway, so a failed start leaves no connection or task behind."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.streams import ConsumerSpec

from . import process
from .database import async_engine, migrate
from .eventstore import App, postgres_application
from .health import HealthServer
from .http.server import HttpServer
from .logs import configure_logging, get_logger
from .messaging.bus import Bus
from .messaging.consumer import BatchConsumer
from .messaging.heartbeat import Heartbeat
from .messaging.replays import ReplayConsumer
from .relay import EventMapper, Relay, RelayPositions
from .settings import ServiceSettings
from .tasks import keep_running
from .telemetry import configure_tracing

T = TypeVar("T")
Action = Callable[[], Awaitable[object] | object]
S = TypeVar("S", bound=ServiceSettings)


async def _call(action: Action | None) -> None:
    if action is not None:
        result = action()
        if inspect.isawaitable(result):
            await result


@dataclass
class _Part:
    name: str
    start: Action | None  # None: a resource, open once added
    stop: Action | None
    started: bool = False


class Host:
    def __init__(self, service: str, settings: ServiceSettings):
        self.service, self.settings = service, settings
        configure_logging(service, settings.log_format, settings.log_level)
        configure_tracing(service, settings.otel_exporter)
        self.log = get_logger(service)
        self.ready_checks: dict[str, Callable[[], bool]] = {}
        self._parts: list[_Part] = []
        self._vital: list[Callable[[], Awaitable[object]]] = []  # waits that end the service when they end
        self._bus: Bus | None = None
        self._ready_fields: dict[str, str] = {}  # what the "ready" line names (the API's URL)
        self._consumers: list[BatchConsumer] = []  # their dead letters come back through one ReplayConsumer

    # --- resources: open once built, closed in reverse ------------------------------------------

    def closing(self, thing: T, close: Action, name: str | None = None) -> T:
        self._parts.append(_Part(name or type(thing).__name__, None, close, started=True))
        return thing

    async def database(self, migrations: Path, schema: str, pool_size: int = 10) -> AsyncEngine:
        """The service's schema brought to its newest migration, and an engine on it."""
        db = self.settings.database()
        await migrate(migrations, db, schema)
        engine = async_engine(db, pool_size=pool_size)
        return self.closing(engine, engine.dispose, "database")

    async def event_store(self, app_class: type[App], schema: str, pool_size: int = 5, **env: str) -> App:
        """The service's eventsourcing application (`env`: more of its settings, e.g. a cache size)."""
        app = await asyncio.to_thread(postgres_application, app_class, self.settings.database(), schema,
                                      pool_size, **env)
        return self.closing(app, app.close, "event store")

    async def bus(self) -> Bus:
        """The service's NATS connection (streams declared); readiness follows it."""
        bus = await Bus(self.settings, self.service).connect()
        self._bus = bus
        self.ready_checks["nats"] = lambda: bus.connected
        return self.closing(bus, bus.close, "nats")

    # --- components: started in order, stopped in reverse ---------------------------------------

    def add(self, component: T, *, start: Action | None = None, stop: Action | None = None,
            name: str | None = None) -> T:
        """`start`/`stop` default to the component's own `start()`/`stop()` (either may be async)."""
        self._parts.append(_Part(name or type(component).__name__, start or component.start,
                                 stop or getattr(component, "stop", None)))
        return component

    def step(self, name: str, action: Action) -> None:
        """Something done once, at its place in the start order (restoring state, waiting for a load)."""
        self._parts.append(_Part(name, action, None))

    def task(self, name: str, loop: Callable[[], Awaitable[object]], pause: float = 0.5) -> None:
        """A background loop that must keep running: if it dies it is logged and started again."""
        box: dict[str, asyncio.Task] = {}

        def start() -> None:
            box["task"] = asyncio.create_task(keep_running(name, loop, self.log, pause), name=name)

        async def stop() -> None:
            if task := box.get("task"):
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        self._parts.append(_Part(name, start, stop))

    async def relay(self, app: Any, engine: AsyncEngine, schema: str, to_cloudevent: EventMapper,
                    name: str) -> Relay:
        """The relay publishing the event store's new events to JetStream, from its recorded position."""
        positions = RelayPositions(engine, schema)
        await positions.create()
        return self.add(Relay(app, self._need_bus().publisher, positions, to_cloudevent, name=name),
                        name=f"relay {name}")

    def consumer(self, spec: ConsumerSpec, handler: Callable, **options: Any) -> BatchConsumer:
        consumer = self.add(BatchConsumer(self._need_bus().js, spec, handler, **options),
                            name=f"consumer {spec.durable}")
        self._consumers.append(consumer)
        return consumer

    def http(self, app: Any, host: str, port: int) -> HttpServer:
        """The service's HTTP API; the service ends if it ends (its port taken, say)."""
        server = self.add(HttpServer(app, host, port), name="http")
        self._vital.append(server.wait_closed)
        self._ready_fields["url"] = server.url
        return server

    def health_endpoint(self, metrics: Callable[[], dict] | None = None) -> None:
        """`/healthz`, `/readyz` (the ready checks) and `/metrics` on SWITCHBOARD_HEALTH_PORT, if set."""
        self.add(HealthServer(self.settings.health_port, self.readiness, metrics=metrics), name="health")

    async def readiness(self) -> dict[str, bool]:
        """Each ready check by name (`nats` once the bus is wired; a service adds its own)."""
        return {name: check() for name, check in self.ready_checks.items()}

    def _need_bus(self) -> Bus:
        if self._bus is None:
            raise RuntimeError("wire the bus (await host.bus()) before what uses it")
        return self._bus

    # --- running ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Start every part in order, then wait for `stop` (or a vital part ending)."""
        bus = self._need_bus()
        if self._consumers:  # dead letters an operator gives back, each to its consumer (messaging/replays.py)
            self.add(ReplayConsumer(bus.js, self.service, self._consumers), name="replays")
        self.add(Heartbeat(bus.js, self.service, self.settings.heartbeat_seconds), name="heartbeat")
        for part in self._parts:
            if not part.started:
                await _call(part.start)
                part.started = True
        process.started()  # a service's own process settles its heap: start-up built what lives on
        self.log.info(f"{self.service} ready", **self._ready_fields)
        waits = [asyncio.ensure_future(stop.wait())] + [asyncio.ensure_future(w()) for w in self._vital]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        self.log.info(f"{self.service} stopping")

    async def close(self) -> None:
        """Stop what started and close what opened, in reverse order; a part that fails to stop is
        logged and the rest still stop."""
        while self._parts:
            part = self._parts.pop()
            if not part.started:
                continue
            try:
                await _call(part.stop)
            except Exception as exc:  # noqa: BLE001 - the others must still stop
                self.log.warning(f"stopping {part.name} failed", error=repr(exc))


def hosted(service: str, settings_class: type[S],
           wire: Callable[[Host, S], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """`serve(stop, settings=None)` for a service made of what `wire(host, settings)` adds."""

    async def serve(stop: asyncio.Event, settings: S | None = None) -> None:
        settings = settings or settings_class()
        host = Host(service, settings)
        try:
            await wire(host, settings)
            await host.run(stop)
        finally:
            await host.close()

    serve.__doc__ = f"Run the {service} service until `stop` is set."
    return serve
