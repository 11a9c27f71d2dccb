"""Composition root of the campaigns service: settings, connections, application, runner, consumers,
HTTP API."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.database import async_engine, migrate
from switchboard_runtime.eventstore import postgres_application
from switchboard_runtime.health import HealthServer
from switchboard_runtime.http.server import HttpServer
from switchboard_runtime.logs import configure_logging, get_logger
from switchboard_runtime.messaging.bus import Bus
from switchboard_runtime.messaging.consumer import BatchConsumer
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.messaging.heartbeat import Heartbeat
from switchboard_runtime.relay import Relay, RelayPositions
from switchboard_runtime.telemetry import configure_tracing

from .api.app import Deps, create_app
from .application import CampaignsApp
from .blocklist import Blocklist
from .broadcast_lists import BroadcastLists
from .contacts_store import ContactsStore
from .domain.keywords import Keywords
from .events import to_cloudevent
from .imports import ImportLog
from .lifecycle import Lifecycle
from .optouts import OptOuts
from .runner import Runner
from .sender_directory import SenderDirectory
from .settings import CampaignsSettings
from .status_updates import StatusUpdates
from .tables import SCHEMA

SERVICE = "campaigns"
STATUSES_LINGER = 0.25  # seconds a statuses batch may wait to fill: a message's sent, delivered, read in one update
MIGRATIONS = Path(__file__).parent / "migrations"


async def serve(stop: asyncio.Event, settings: CampaignsSettings | None = None) -> None:
    settings = settings or CampaignsSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    configure_tracing(SERVICE, settings.otel_exporter)
    log = get_logger(SERVICE)
    db = settings.database()

    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db)
    app = await asyncio.to_thread(postgres_application, CampaignsApp, db, SCHEMA)
    bus = await Bus(settings, SERVICE).connect()
    positions = RelayPositions(engine, SCHEMA)
    await positions.create()
    relay = Relay(app, bus.publisher, positions, to_cloudevent, name="campaigns")
    directory = SenderDirectory(engine)
    lifecycle = Lifecycle(app, engine, relay, directory, await ensure_key_value(bus.js, streams.CAMPAIGN_HOLDS))
    runner = Runner(engine, bus.publisher, lifecycle.runner_transition, directory,
                    tick=settings.campaign_tick_seconds, batch=settings.campaign_batch_size,
                    inflight=settings.campaign_inflight)
    lifecycle.wake = runner.wake
    blocklist = Blocklist(engine)
    keywords = Keywords(settings.optout_keywords.split(","), settings.optin_keywords.split(","))
    optouts = OptOuts(blocklist, bus.publisher, keywords, out_reply=settings.optout_reply,
                      in_reply=settings.optin_reply)
    consumers = [BatchConsumer(bus.js, streams.CAMPAIGNS_STATUSES, StatusUpdates(engine, runner.wake).handle,
                               batch_size=2000, linger=STATUSES_LINGER),
                 BatchConsumer(bus.js, streams.CAMPAIGNS_OPTOUTS, optouts.handle, batch_size=500),
                 BatchConsumer(bus.js, streams.CAMPAIGNS_SENDERS, directory.handle, batch_size=500)]
    api = create_app(Deps(settings, app, engine, lifecycle, ContactsStore(engine), blocklist, bus.publisher,
                          BroadcastLists(engine), ImportLog(engine)))
    server = HttpServer(api, settings.campaigns_host, settings.campaigns_port)

    async def readiness() -> dict[str, bool]:
        return {"nats": bus.connected}

    health = HealthServer(settings.health_port, readiness)
    heartbeat = Heartbeat(bus.js, SERVICE, settings.heartbeat_seconds)
    relay.start()
    runner.start()
    for consumer in consumers:
        await consumer.start()
    server.start()
    await health.start()
    heartbeat.start()
    log.info("campaigns ready", url=server.url)
    await server.serve_until(stop)

    log.info("campaigns stopping")
    await heartbeat.stop()
    await health.stop()
    await server.stop()
    for consumer in consumers:
        await consumer.stop()
    await runner.stop()
    await relay.stop()
    await bus.close()
    await engine.dispose()
    app.close()


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
