"""Composition root of the gateway: settings, connections, the senders read model, the services it
forwards to, API, wiring."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.database import async_engine, migrate
from switchboard_runtime.http.server import HttpServer
from switchboard_runtime.logs import configure_logging, get_logger
from switchboard_runtime.messaging.bus import Bus
from switchboard_runtime.messaging.consumer import BatchConsumer
from switchboard_runtime.messaging.heartbeat import Heartbeat
from switchboard_runtime.sealing import Sealer
from switchboard_runtime.telemetry import configure_tracing

from .api.app import create_app
from .api.forward import Upstream
from .api.deps import Deps
from .orgs import Organizations
from .read_models.projection import Projection
from .read_models.queries import Queries
from .settings import GatewaySettings
from .tables import SCHEMA

SERVICE = "gateway"
MIGRATIONS = Path(__file__).parent / "migrations"


async def serve(stop: asyncio.Event, settings: GatewaySettings | None = None) -> None:
    settings = settings or GatewaySettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    configure_tracing(SERVICE, settings.otel_exporter)
    log = get_logger(SERVICE)
    db = settings.database()

    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db, pool_size=20)
    bus = await Bus(settings, SERVICE).connect()
    projection = BatchConsumer(bus.js, streams.GATEWAY_READ_MODELS, Projection(engine).handle, batch_size=500)
    sealer = Sealer(settings.secret_key.get_secret_value())
    secret = settings.secret_key.get_secret_value()
    campaigns = Upstream("campaigns", settings.campaigns_url, secret, timeout=60.0)  # uploads take a while
    conversations = Upstream("conversations", settings.conversations_url, secret, timeout=settings.forward_timeout_seconds)
    app = create_app(Deps(settings, Organizations(engine), Queries(engine), bus, sealer, campaigns, conversations))
    server = HttpServer(app, settings.gateway_host, settings.gateway_port)
    heartbeat = Heartbeat(bus.js, SERVICE, settings.heartbeat_seconds)

    await projection.start()
    server.start()
    heartbeat.start()
    log.info("gateway ready", url=server.url)
    await server.serve_until(stop)

    log.info("gateway stopping")
    await heartbeat.stop()
    await server.stop()
    await projection.stop()
    await campaigns.close()
    await conversations.close()
    await bus.close()
    await engine.dispose()


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
