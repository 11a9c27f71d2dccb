"""Composition root of the webhooks service: what it is made of, in start order (the host runs it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard_runtime import process
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.logs import get_logger
from switchboard_runtime.outbox import Outbox, OutboxTable
from switchboard_runtime.sealing import Sealer

from .api.app import create_app
from .api.deps import Deps
from .attempts import AttemptLog
from .delivery.dispatcher import Dispatcher
from .delivery.jobs import JobRunner
from .delivery.lane import Lane, LaneConfig
from .endpoint_store import EndpointStore
from .job_store import JobStore
from .settings import WebhooksSettings
from .tables import SCHEMA

SERVICE = "webhooks"
MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


async def wire(host: Host, settings: WebhooksSettings) -> None:
    log.info("webhooks: endpoints may be private addresses" if settings.allow_private_urls else
             "webhooks: endpoints at loopback, private and link-local addresses are refused",
             allow_private_urls=settings.allow_private_urls)
    engine = await host.database(MIGRATIONS, SCHEMA, pool_size=10)
    bus = await host.bus()
    outbox = OutboxTable(SCHEMA)  # webhook_endpoint.* events, published after their change commits
    events = host.add(Outbox(engine, bus.publisher, outbox, name="webhooks-outbox"))
    attempt_log = host.add(AttemptLog(engine), name="attempts log")
    config = LaneConfig(settings.schedule(), settings.disable_after(), settings.webhook_timeout_seconds,
                        settings.webhook_max_response_bytes, settings.allow_private_urls)
    wakes: list = []
    store = EndpointStore(engine, outbox, Sealer(settings.secret_key.get_secret_value()),
                          wake=lambda: [w() for w in wakes])
    jobs = JobStore(engine)
    runner = JobRunner(bus.js, store, jobs, attempt_log, config)
    dispatcher = host.add(Dispatcher(store, jobs, runner, lambda e: Lane(e, bus.js, store, attempt_log, config),
                                     poll=settings.webhook_poll_seconds, lease=settings.webhook_lease_seconds),
                          name="webhook dispatcher")
    wakes += [events.wake, dispatcher.wake]
    host.task("attempts retention", lambda: _forget(attempt_log, settings.webhook_attempts_days))
    host.http(create_app(Deps(settings, store, attempt_log, jobs, bus.js)), settings.webhooks_host, settings.webhooks_port)
    host.health_endpoint()


async def _forget(attempts: AttemptLog, days: int) -> None:
    while True:
        await attempts.forget_older_than(days)
        await asyncio.sleep(3600)


serve = hosted(SERVICE, WebhooksSettings, wire)


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
