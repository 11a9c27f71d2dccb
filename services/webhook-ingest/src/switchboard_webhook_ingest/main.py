"""Composition root of webhook-ingest: settings, NATS, the route table, the webhooks, the HTTP server."""

from __future__ import annotations

import asyncio

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.http.server import HttpServer
from switchboard_runtime.logs import configure_logging, get_logger
from switchboard_runtime.messaging.bus import Bus
from switchboard_runtime.messaging.declare import ensure_key_value, ensure_stream
from switchboard_runtime.messaging.heartbeat import Heartbeat
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.sealing import Sealer
from switchboard_runtime.telemetry import configure_tracing

from .api import Webhooks, create_app
from .ingest import Ingestor
from .meta_webhook import MetaWebhook
from .routes import RouteTable
from .settings import IngestSettings
from .waha_webhook import WahaWebhook

SERVICE = "webhook-ingest"


async def serve(stop: asyncio.Event, settings: IngestSettings | None = None) -> None:
    settings = settings or IngestSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    configure_tracing(SERVICE, settings.otel_exporter)
    log = get_logger(SERVICE)
    sealer = Sealer(settings.secret_key.get_secret_value())

    bus = await Bus(settings, SERVICE).connect()
    await ensure_stream(bus.js, streams.QUARANTINE)
    routes = RouteTable(await ensure_key_value(bus.js, streams.SENDER_ROUTES), sealer)
    await routes.start()

    ingestor = Ingestor(Publisher(bus.nc, bus.js, timeout=settings.ingest_publish_timeout_seconds))

    async def readiness() -> dict[str, bool]:
        return {"nats": bus.connected, "routes": routes.loaded.is_set()}

    app = create_app(Webhooks(
        meta=MetaWebhook(routes, ingestor, settings.meta_verify_token.get_secret_value()),
        waha=WahaWebhook(routes, ingestor), readiness=readiness, max_body_bytes=settings.ingest_max_body_bytes,
        otel_exporter=settings.otel_exporter))
    server = HttpServer(app, settings.ingest_host, settings.ingest_port)
    heartbeat = Heartbeat(bus.js, SERVICE, settings.heartbeat_seconds)

    await asyncio.wait_for(routes.loaded.wait(), 30)
    process.settle_heap()
    server.start()
    heartbeat.start()
    log.info("webhook-ingest ready", url=server.url)
    await server.serve_until(stop)

    log.info("webhook-ingest stopping")
    await heartbeat.stop()
    await server.stop()
    await routes.stop()
    await bus.close()


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
