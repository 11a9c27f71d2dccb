"""Composition root of the session-pool: settings, connections, application, handlers, wiring."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.database import async_engine, migrate
from switchboard_runtime.eventstore import call, postgres_application
from switchboard_runtime.health import HealthServer
from switchboard_runtime.logs import configure_logging, get_logger
from switchboard_runtime.messaging.bus import Bus
from switchboard_runtime.messaging.consumer import BatchConsumer
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.messaging.heartbeat import Heartbeat
from switchboard_runtime.relay import Relay, RelayPositions
from switchboard_runtime.sealing import Sealer
from switchboard_runtime.telemetry import configure_tracing

from .application import SendersApp
from .dispatch.dispatcher import Dispatcher
from .domain.pacing import HumanPacing
from .domain.reconnect import ReconnectPolicy
from .domain.sender import Sender
from .events import to_cloudevent
from .metrics import rss_mb
from .providers.meta_cloud import MetaCloudProvider
from .providers.router import ProviderRouter
from .providers.simulator import SimulatorProvider
from .providers.waha import WahaProvider
from .senders.commands import SenderCommands
from .senders.connections import Connector
from .senders.queries import SenderQueries
from .senders.routes import SenderRoutes
from .senders.sessions import SessionEvents
from .senders.watch import SenderWatch
from .settings import SessionPoolSettings
from .stores.campaign_holds import CampaignHolds
from .stores.outbound_messages import OutboundStore
from .stores.quotas import SharedQuotas
from .stores.service_window import ServiceWindow
from .tables import SCHEMA

SERVICE = "session-pool"
MIGRATIONS = Path(__file__).parent / "migrations"


async def serve(stop: asyncio.Event, settings: SessionPoolSettings | None = None) -> None:
    settings = settings or SessionPoolSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    configure_tracing(SERVICE, settings.otel_exporter)
    log = get_logger(SERVICE)
    db = settings.database()

    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db)
    app = await asyncio.to_thread(postgres_application, SendersApp, db, SCHEMA)
    bus = await Bus(settings, SERVICE).connect()

    positions = RelayPositions(engine, SCHEMA)
    await positions.create()
    relay = Relay(app, bus.publisher, positions, to_cloudevent, name="senders")
    simulator = SimulatorProvider(engine, bus.publisher,
                                  delivered_delay=settings.simulator_delivered_delay_ms / 1000,
                                  read_delay=settings.simulator_read_delay_ms / 1000)
    senders: dict[str, Sender] = {}  # the aggregates the dispatcher and the providers act on
    key = settings.secret_key.get_secret_value()
    sealer = Sealer(key) if key else None
    meta = MetaCloudProvider(sealer, senders)
    waha = WahaProvider(sealer, senders, pacing=HumanPacing() if settings.human_pacing else None)
    faults = simulator.faults
    providers = ProviderRouter({"simulator": simulator, "meta-cloud": meta, "waha": waha}, senders,
                               slow=lambda sender_id: sender_id in faults.latency)
    window = ServiceWindow(engine)
    holds = CampaignHolds(await ensure_key_value(bus.js, streams.CAMPAIGN_HOLDS))
    quotas = SharedQuotas(await ensure_key_value(bus.js, streams.SENDER_QUOTAS))
    dispatcher = Dispatcher(app, OutboundStore(engine), providers, bus.publisher, quotas=quotas, senders=senders,
                            relay=relay, ttl_seconds=settings.message_ttl_seconds,
                            pair_interval=settings.pair_interval_seconds, window=window, holds=holds)
    routes = SenderRoutes(await ensure_key_value(bus.js, streams.SENDER_ROUTES))
    connector = Connector(app, bus.publisher, meta=meta, waha=waha, faults=faults,
                          policy=ReconnectPolicy(settings.reconnect_base_seconds, settings.reconnect_cap_seconds,
                                                 settings.reconnect_max_attempts),
                          webhook_url=settings.waha_webhook_url, on_change=dispatcher.sender_changed,
                          wake=relay.wake)
    sender_commands = SenderCommands(app, relay, simulator, bus.publisher, routes, connector, waha,
                                     on_change=dispatcher.sender_changed)
    queries = SenderQueries(app, engine, dispatcher, waha, faults)
    watch = SenderWatch(app, senders, dispatcher.sender_changed)

    consumers = [
        BatchConsumer(bus.js, streams.SESSION_POOL_SEND, dispatcher.handle,
                      batch_size=settings.send_batch_size, concurrency=settings.send_concurrency,
                      on_dead_letter=dispatcher.on_dead_letter),
        BatchConsumer(bus.js, streams.SESSION_POOL_SENDERS, sender_commands.handle, batch_size=64),
        BatchConsumer(bus.js, streams.SESSION_POOL_INBOUND, window.handle, batch_size=1000),
        BatchConsumer(bus.js, streams.SESSION_POOL_CONNECTIONS, connector.handle, batch_size=16, concurrency=4),
        BatchConsumer(bus.js, streams.SESSION_POOL_SESSIONS, SessionEvents(app, connector).handle, batch_size=64),
    ]

    async def readiness() -> dict[str, bool]:
        return {"nats": bus.connected}

    health = HealthServer(settings.health_port, readiness, metrics=lambda: {
        "rss_mb": round(rss_mb(), 1), "senders_loaded": len(senders), **dispatcher.admission.times.snapshot()})
    heartbeat = Heartbeat(bus.js, SERVICE, settings.heartbeat_seconds)
    relay.start()
    dispatcher.start()
    faults.start()
    holds.on_change = dispatcher.holds_changed
    await holds.start()
    await watch.start(bus.nc)
    await queries.start(bus.nc)
    for consumer in consumers:
        await consumer.start()
    await restore(app, routes, connector)
    await health.start()
    heartbeat.start()
    log.info("session-pool ready")
    await stop.wait()

    log.info("session-pool stopping")
    await heartbeat.stop()
    await health.stop()
    await queries.stop()
    await holds.stop()
    await watch.stop()
    for consumer in consumers:
        await consumer.stop()
    await dispatcher.stop()
    await relay.stop()
    await simulator.close()
    await meta.close()
    await waha.close()
    await bus.close()
    await engine.dispose()
    app.close()


async def restore(app: SendersApp, routes: SenderRoutes, connector: Connector) -> None:
    """On start, restore every provider sender that was connected: check its Meta token or WAHA
    session again (one attempt per sender and version, whichever replica starts first)."""
    for sender_id in await routes.provider_sender_ids():
        sender = await call(app.find, sender_id)
        if sender is not None and sender.status == "connected" and not sender.removed:
            await connector.schedule(sender, "restore", msg_id=f"restore:{sender_id}:{sender.version}", verify=True)


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
