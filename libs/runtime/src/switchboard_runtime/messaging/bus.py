"""The NATS connection a service owns: a nats-py connection, its JetStream context, declared streams.

The connection is opened with nats-py directly (`nats_internals.connect`: its client with a quicker
header parser). faststream used to open it, and it no longer does:
nothing in a service publishes or subscribes through faststream (publishing is `publisher.py`,
consuming is `consumer.py` and `pull.py`), so its broker did nothing but call `nats.connect`. Its
telemetry middleware was never called, because it wraps only faststream's own publishers and
subscribers. Its connection-error lines went to a handler of its own, outside our structured logs. In
a service process it took 0.17-0.28 s and 217 modules to import, and we reached the connection
through a path it does not document (`broker.config.connection_state`). The connection keeps every
option the broker passed: nats-py's defaults, except the name, `max_reconnect_attempts=-1` and
`reconnect_time_wait=1`. It keeps faststream's handling of errors too (`_on_error`): a server refusal
that no retry can cure ends the connection attempt, and any other NATS error of a live connection is
a warning. faststream stays only for the AsyncAPI document (`switchboard_runtime.contract_docs`,
`make contracts`), which it generates from the event models."""

from __future__ import annotations

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from ..logs import get_logger
from ..settings import ServiceSettings
from .declare import ensure_streams
from .nats_internals import connect
from .publisher import Publisher

log = get_logger(__name__)

# Server `-ERR` reasons that a retry never cures (faststream 0.7's list): connecting fails at once,
# rather than retrying forever.
UNRECOVERABLE = frozenset({
    "authorization violation", "authorization timeout", "invalid client protocol",
    "maximum payload violation", "invalid subject", "stale connection", "maximum connections exceeded",
    "parser error", "secure connection - tls required",
})


class BusJetStream(JetStreamContext):
    """nats-py's JetStream context, which also names the connection it runs on (consumers pull
    through that connection directly: `pull.py`)."""

    def __init__(self, connection: Client):
        super().__init__(connection)
        self.connection = connection


class Bus:
    def __init__(self, settings: ServiceSettings, service: str):
        self.settings = settings
        self.name = f"switchboard-{service}"
        self.nc: Client | None = None
        self.js: BusJetStream | None = None
        self.publisher: Publisher | None = None

    async def connect(self) -> Bus:
        self.nc = await connect([self.settings.nats_url], name=self.name, error_cb=self._on_error,
                                max_reconnect_attempts=-1, reconnect_time_wait=1)
        self.js = BusJetStream(self.nc)
        self.publisher = Publisher(self.nc, self.js)
        await ensure_streams(self.js, self.settings)
        return self

    async def _on_error(self, err: Exception) -> None:
        if not isinstance(err, NatsError):
            return  # a socket error while (re)connecting: nats-py tries the next attempt
        if str(err).removeprefix("nats: ").strip("'").lower() in UNRECOVERABLE:
            raise err
        if self.nc is not None:
            log.warning("NATS connection broken", connection=self.name, error=repr(err))

    async def close(self) -> None:
        if self.nc and not self.nc.is_closed:
            await self.nc.close()

    @property
    def connected(self) -> bool:
        return bool(self.nc and self.nc.is_connected)
