"""Composition root of the session-pool: what it is made of, in start order (the host runs it and
stops it in reverse) — the senders' relay, the dispatcher and what it reads (simulator faults, campaign
and template holds), the sender watch and live answers, the six consumers, restoring connected senders,
health."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.messaging.bus import Bus
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.sealing import Sealer

from .application import SendersApp
from .dispatch.dispatcher import Dispatcher
from .domain.pacing import HumanPacing
from .domain.reconnect import ReconnectPolicy
from .domain.sender import Sender
from .events import to_cloudevent
from .metrics import rss_mb
from .providers.meta_cloud import MetaCloudProvider
from .providers.meta_templates import MetaTemplates
from .providers.router import ProviderRouter
from .providers.simulator import SimulatorProvider
from .providers.waha import WahaProvider
from .senders.commands import SenderCommands
from .senders.connections import Connector
from .senders.queries import SenderQueries
from .senders.restore import restore
from .senders.routes import SenderRoutes
from .senders.sessions import SessionEvents
from .senders.template_queries import TemplateQueries
from .senders.watch import SenderWatch
from .settings import SessionPoolSettings
from .stores.campaign_holds import CampaignHolds
from .stores.outbound_messages import OutboundStore
from .stores.quotas import SharedQuotas
from .stores.service_window import ServiceWindow
from .stores.template_holds import TemplateHolds
from .tables import SCHEMA

SERVICE = "session-pool"
MIGRATIONS = Path(__file__).parent / "migrations"


def open_providers(host: Host, settings: SessionPoolSettings, engine: AsyncEngine, bus: Bus,
                   senders: dict[str, Sender]) -> tuple[SimulatorProvider, MetaCloudProvider, WahaProvider]:
    """The providers, closed once everything that sends through them has stopped."""
    simulator = SimulatorProvider(engine, bus.publisher,
                                  delivered_delay=settings.simulator_delivered_delay_ms / 1000,
                                  read_delay=settings.simulator_read_delay_ms / 1000)
    key = settings.secret_key.get_secret_value()
    sealer = Sealer(key) if key else None
    meta = MetaCloudProvider(sealer, senders)
    waha = WahaProvider(sealer, senders, pacing=HumanPacing() if settings.human_pacing else None)
    host.closing(simulator, simulator.close, "simulator")
    host.closing(meta, meta.close, "meta-cloud")
    host.closing(waha, waha.close, "waha")
    return simulator, meta, waha


async def wire(host: Host, settings: SessionPoolSettings) -> None:
    engine = await host.database(MIGRATIONS, SCHEMA)
    app = await host.event_store(SendersApp, SCHEMA)
    bus = await host.bus()
    senders: dict[str, Sender] = {}  # the aggregates the dispatcher and the providers act on
    simulator, meta, waha = open_providers(host, settings, engine, bus, senders)
    faults = simulator.faults
    relay = await host.relay(app, engine, SCHEMA, to_cloudevent, name="senders")
    router = ProviderRouter({"simulator": simulator, "meta-cloud": meta, "waha": waha}, senders,
                            slow=lambda sender_id: sender_id in faults.latency)
    window = ServiceWindow(engine)
    holds = CampaignHolds(await ensure_key_value(bus.js, streams.CAMPAIGN_HOLDS))
    template_holds = TemplateHolds(await ensure_key_value(bus.js, streams.TEMPLATE_HOLDS))
    quotas = SharedQuotas(await ensure_key_value(bus.js, streams.SENDER_QUOTAS))
    dispatcher = host.add(Dispatcher(app, OutboundStore(engine), router, bus.publisher, quotas=quotas, senders=senders,
                                     relay=relay, ttl_seconds=settings.message_ttl_seconds,
                                     pair_interval=settings.pair_interval_seconds, pair_burst=settings.pair_burst,
                                     window=window, holds=holds, template_holds=template_holds))
    host.add(faults, name="simulator faults")
    holds.on_change = dispatcher.holds_changed  # before it starts: its first values already count
    host.add(holds, name="campaign holds")
    template_holds.on_change = dispatcher.holds_changed  # loaded before the send consumer starts
    host.add(template_holds, name="template holds")
    routes = SenderRoutes(await ensure_key_value(bus.js, streams.SENDER_ROUTES))
    connector = Connector(app, bus.publisher, meta=meta, waha=waha, faults=faults,
                          policy=ReconnectPolicy(settings.reconnect_base_seconds, settings.reconnect_cap_seconds,
                                                 settings.reconnect_max_attempts),
                          webhook_url=settings.waha_webhook_url, on_change=dispatcher.sender_changed,
                          wake=relay.wake)
    commands = SenderCommands(app, relay, simulator, bus.publisher, routes, connector, waha,
                              on_change=dispatcher.sender_changed)
    watch = SenderWatch(app, senders, dispatcher.sender_changed)
    queries = SenderQueries(app, engine, dispatcher, waha, faults, TemplateQueries(MetaTemplates(meta)))
    host.add(watch, start=lambda: watch.start(bus.nc), name="sender watch")
    host.add(queries, start=lambda: queries.start(bus.nc), name="sender queries")
    host.consumer(streams.SESSION_POOL_SEND, dispatcher.handle, batch_size=settings.send_batch_size,
                  concurrency=settings.send_concurrency, on_dead_letter=dispatcher.on_dead_letter)
    host.consumer(streams.SESSION_POOL_SENDERS, commands.handle, batch_size=64)
    host.consumer(streams.SESSION_POOL_INBOUND, window.handle, batch_size=1000)
    host.consumer(streams.SESSION_POOL_TEMPLATES, template_holds.handle, batch_size=64)
    host.consumer(streams.SESSION_POOL_CONNECTIONS, connector.handle, batch_size=16, concurrency=4)
    host.consumer(streams.SESSION_POOL_SESSIONS, SessionEvents(app, connector).handle, batch_size=64)
    host.step("restore connected senders", lambda: restore(app, routes, connector))
    host.health_endpoint(metrics=lambda: {"rss_mb": round(rss_mb(), 1), "senders_loaded": len(senders),
                                          **dispatcher.admission.times.snapshot()})


serve = hosted(SERVICE, SessionPoolSettings, wire)


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
