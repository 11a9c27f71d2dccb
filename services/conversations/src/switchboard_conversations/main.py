"""Composition root of the conversations service: settings, connections, application, history,
sends and their outbox, HTTP API, wiring."""

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
from switchboard_runtime.messaging.heartbeat import Heartbeat
from switchboard_runtime.relay import Relay, RelayPositions
from switchboard_runtime.telemetry import configure_tracing

from .api.app import Deps, create_app
from .application import ConversationsApp
from .events import to_cloudevent
from .history import History
from .outbox import Outbox
from .queries import Queries
from .sends import Sends
from .settings import ConversationsSettings
from .starter import Starter
from .tables import SCHEMA

SERVICE = "conversations"
MIGRATIONS = Path(__file__).parent / "migrations"
# A batch that is not full waits this long for more: a message's accepted, sent, delivered and read
# (a few hundred ms apart) then mostly land in one batch, one row write instead of four.
HISTORY_LINGER = 0.25


async def serve(stop: asyncio.Event, settings: ConversationsSettings | None = None) -> None:
    settings = settings or ConversationsSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    configure_tracing(SERVICE, settings.otel_exporter)
    log = get_logger(SERVICE)
    db = settings.database()

    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db, pool_size=20)
    app = await asyncio.to_thread(postgres_application, ConversationsApp, db, SCHEMA)
    bus = await Bus(settings, SERVICE).connect()
    positions = RelayPositions(engine, SCHEMA)
    await positions.create()
    relay = Relay(app, bus.publisher, positions, to_cloudevent, name="conversations")
    starter = Starter(engine, app, relay)
    commands = Outbox(engine, bus.publisher)
    consumers = [BatchConsumer(bus.js, streams.CONVERSATIONS_HISTORY,
                               History(engine, on_new_conversations=starter.wake).handle,
                               batch_size=settings.history_batch_size, linger=HISTORY_LINGER)]
    api = create_app(Deps(settings, Sends(engine, commands.wake, starter.wake), Queries(engine)))
    server = HttpServer(api, settings.conversations_host, settings.conversations_port)

    async def readiness() -> dict[str, bool]:
        return {"nats": bus.connected}

    health = HealthServer(settings.health_port, readiness)
    heartbeat = Heartbeat(bus.js, SERVICE, settings.heartbeat_seconds)
    relay.start()
    starter.start()
    commands.start()
    for consumer in consumers:
        await consumer.start()
    server.start()
    await health.start()
    heartbeat.start()
    log.info("conversations ready", url=server.url)
    await server.serve_until(stop)

    log.info("conversations stopping")
    await heartbeat.stop()
    await health.stop()
    await server.stop()
    for consumer in consumers:
        await consumer.stop()
    await commands.stop()
    await starter.stop()
    await relay.stop()
    await bus.close()
    await engine.dispose()
    app.close()


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
