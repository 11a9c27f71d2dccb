"""Composition root of webhook-ingest: what it is made of, in start order (the host runs it) — the
route table, the webhooks, the HTTP server."""

from __future__ import annotations

import asyncio

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.messaging.declare import ensure_key_value, ensure_stream
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.sealing import Sealer

from .api import Webhooks, create_app
from .ingest import Ingestor
from .meta_webhook import MetaWebhook
from .routes import RouteTable
from .settings import IngestSettings
from .waha_webhook import WahaWebhook

SERVICE = "webhook-ingest"
ROUTES_LOAD_TIMEOUT = 30.0  # seconds: the route table must be loaded before the first webhook is taken


async def wire(host: Host, settings: IngestSettings) -> None:
    sealer = Sealer(settings.secret_key.get_secret_value())
    bus = await host.bus()
    await ensure_stream(bus.js, streams.QUARANTINE)
    routes = host.add(RouteTable(await ensure_key_value(bus.js, streams.SENDER_ROUTES), sealer))
    host.ready_checks["routes"] = routes.loaded.is_set
    ingestor = Ingestor(Publisher(bus.nc, bus.js, timeout=settings.ingest_publish_timeout_seconds))

    app = create_app(Webhooks(
        meta=MetaWebhook(routes, ingestor, settings.meta_verify_token.get_secret_value()),
        waha=WahaWebhook(routes, ingestor), readiness=host.readiness, max_body_bytes=settings.ingest_max_body_bytes,
        otel_exporter=settings.otel_exporter))
    host.step("routes loaded", lambda: asyncio.wait_for(routes.loaded.wait(), ROUTES_LOAD_TIMEOUT))
    host.http(app, settings.ingest_host, settings.ingest_port)


serve = hosted(SERVICE, IngestSettings, wire)


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
