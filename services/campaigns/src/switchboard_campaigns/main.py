"""Composition root of the campaigns service: what it is made of, in start order (the host runs it)."""

from __future__ import annotations

from pathlib import Path

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.messaging.declare import ensure_key_value

from .api.app import create_app
from .api.deps import Deps
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
from .template_holds import TemplateHolds
from .template_usage import TemplateUsage
from .templates_projection import TemplatesProjection

SERVICE = "campaigns"
STATUSES_LINGER = 0.25  # seconds a statuses batch may wait to fill: a message's sent, delivered, read in one update
MIGRATIONS = Path(__file__).parent / "migrations"


async def wire(host: Host, settings: CampaignsSettings) -> None:
    engine = await host.database(MIGRATIONS, SCHEMA)
    app = await host.event_store(CampaignsApp, SCHEMA)
    bus = await host.bus()
    relay = await host.relay(app, engine, SCHEMA, to_cloudevent, name="campaigns")
    directory = SenderDirectory(engine)
    templates = TemplateUsage(engine)
    lifecycle = Lifecycle(app, engine, relay, directory, await ensure_key_value(bus.js, streams.CAMPAIGN_HOLDS),
                          templates=templates)
    runner = host.add(Runner(engine, bus.publisher, lifecycle.runner_transition, directory, templates=templates,
                             tick=settings.campaign_tick_seconds, batch=settings.campaign_batch_size,
                             inflight=settings.campaign_inflight))
    lifecycle.wake = runner.wake
    blocklist = Blocklist(engine)
    keywords = Keywords(settings.optout_keywords.split(","), settings.optin_keywords.split(","))
    optouts = OptOuts(blocklist, bus.publisher, keywords, out_reply=settings.optout_reply,
                      in_reply=settings.optin_reply)
    host.consumer(streams.CAMPAIGNS_STATUSES, StatusUpdates(engine, runner.wake).handle,
                  batch_size=2000, linger=STATUSES_LINGER)
    host.consumer(streams.CAMPAIGNS_OPTOUTS, optouts.handle, batch_size=500)
    host.consumer(streams.CAMPAIGNS_SENDERS, directory.handle, batch_size=500)
    host.consumer(streams.CAMPAIGNS_TEMPLATES, TemplatesProjection(engine, TemplateHolds(templates, lifecycle)).handle,
                  batch_size=500)
    host.http(create_app(Deps(settings, app, engine, lifecycle, ContactsStore(engine), blocklist, bus.publisher,
                              BroadcastLists(engine), ImportLog(engine))),
              settings.campaigns_host, settings.campaigns_port)
    host.health_endpoint()


serve = hosted(SERVICE, CampaignsSettings, wire)


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
