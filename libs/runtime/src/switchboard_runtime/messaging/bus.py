"""The NATS connection a service owns: a faststream broker, its JetStream context, declared streams."""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from nats.aio.client import Client
from nats.js import JetStreamContext

from ..settings import ServiceSettings
from .declare import ensure_streams
from .publisher import Publisher


class Bus:
    def __init__(self, settings: ServiceSettings, service: str):
        self.settings = settings
        self.broker = NatsBroker(
            settings.nats_url,
            name=f"switchboard-{service}",
            log_level=logging.DEBUG,  # per-message lines only at debug
            middlewares=[NatsTelemetryMiddleware()],
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
        )
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.publisher: Publisher | None = None

    async def connect(self) -> Bus:
        await self.broker.connect()
        state = self.broker.config.connection_state
        self.nc, self.js = state.connection, state.stream
        self.publisher = Publisher(self.nc, self.js)
        await ensure_streams(self.js, self.settings)
        return self

    async def close(self) -> None:
        if self.nc and not self.nc.is_closed:
            await self.nc.close()

    @property
    def connected(self) -> bool:
        return bool(self.nc and self.nc.is_connected)
