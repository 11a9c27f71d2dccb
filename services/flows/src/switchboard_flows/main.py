"""Composition root of the flows service: what it is made of, in start order (the host runs it)."""

from __future__ import annotations

from pathlib import Path

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.declare import ensure_stream

from .api.app import create_app
from .api.deps import Deps
from .application import FlowsApp
from .auto_replies import AutoReplies
from .auto_reply_store import AutoReplyStore
from .blocklist import Blocklist
from .consumers.effects import Effects
from .consumers.events import EventTriggers
from .consumers.inbound import Inbound
from .consumers.outcomes import Outcomes
from .consumers.timers import FiredTimers
from .effects.email import Mailer
from .effects.http_call import HttpCaller
from .engine import Engine, Revisions
from .events import to_cloudevent
from .execution_index import ExecutionIndex
from .flow_commands import FlowCommands
from .flow_store import FlowStore
from .legacy_statuses import LegacyStatuses
from .overdue import OverdueTimers
from .performer import Performer
from .settings import FlowsSettings
from .tables import SCHEMA
from .template_sends import TemplateSends
from .templates_projection import TemplatesProjection
from .timers import Timers
from .trigger_directory import TriggerDirectory

SERVICE = "flows"
MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


async def wire(host: Host, settings: FlowsSettings) -> None:
    log.info("flows: HTTP nodes may call private addresses" if settings.allow_private_urls else
             "flows: HTTP nodes refuse loopback, private and link-local addresses",
             allow_private_urls=settings.allow_private_urls)
    engine_db = await host.database(MIGRATIONS, SCHEMA)
    app = await host.event_store(FlowsApp, SCHEMA, pool_size=10,
                                 AGGREGATE_CACHE_MAXSIZE=str(settings.flows_execution_cache))
    bus = await host.bus()
    await ensure_stream(bus.js, streams.TIMERS)
    await host.relay(app, engine_db, SCHEMA, to_cloudevent, name="flows")
    store, index, blocklist = FlowStore(engine_db), ExecutionIndex(engine_db), Blocklist(engine_db)
    timers, template_sends = Timers(bus.js), TemplateSends(engine_db)
    revisions = Revisions(store)
    engine = Engine(app, index, revisions, Performer(bus.publisher, timers, blocklist, template_sends))
    overdue = OverdueTimers(engine, index, settings.flows_overdue_sweep_seconds, settings.flows_overdue_grace_seconds)
    host.task("overdue timers", overdue.run)
    directory = TriggerDirectory(store, revisions)
    auto_replies = AutoReplies(AutoReplyStore(engine_db), blocklist, bus.publisher, timers, template_sends)
    http = HttpCaller(allow_private=settings.allow_private_urls)
    host.closing(http, http.close, "http caller")
    effects = host.add(Effects(engine, http, Mailer(settings.smtp())), start=lambda: None, name="effects")
    host.consumer(streams.FLOWS_BLOCKLIST, blocklist.handle, batch_size=500)
    host.consumer(streams.FLOWS_TEMPLATES, TemplatesProjection(engine_db).handle, batch_size=500)
    host.consumer(streams.FLOWS_INBOUND, Inbound(engine, index, directory, auto_replies.consider).handle,
                  batch_size=256)
    outcomes = Outcomes(engine)
    host.consumer(streams.FLOWS_OUTCOMES, outcomes.handle, batch_size=500)
    legacy = LegacyStatuses(bus.js, index, settings.flows_legacy_statuses_check_seconds,
                            settings.flows_legacy_statuses_grace_seconds)
    if await legacy.present():  # retired; kept while a message sent before the upgrade may need it
        legacy.consumer = host.consumer(streams.FLOWS_STATUSES, outcomes.handle, batch_size=500)
        host.task("retire flows__statuses", legacy.run)
    host.consumer(streams.FLOWS_TIMERS, FiredTimers(engine, auto_replies.send).handle, batch_size=1000,
                  concurrency=2)  # a burst due at once: one batch saved while the next is read
    host.consumer(streams.FLOWS_EFFECTS, effects.handle, batch_size=100)
    triggers = EventTriggers(engine, store, directory, bus.js)
    host.consumer(streams.FLOWS_EVENTS, triggers.handle, batch_size=256)
    host.add(triggers, name="event filters")  # after the consumer: it sets the filter the consumer reads
    flows = FlowCommands(app, store, directory, engine, triggers.follow_flows)
    host.http(create_app(Deps(settings, app, flows, store, index, engine, auto_replies)), settings.flows_host,
              settings.flows_port)
    host.health_endpoint()


serve = hosted(SERVICE, FlowsSettings, wire)


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
