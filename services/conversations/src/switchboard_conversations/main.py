"""Composition root of the conversations service: what it is made of, in start order (the host runs
it) — the history, sends and their outbox, the conversations starter and reopener, the directory of
users, teams and senders, the inbox's lifecycle, message templates and their sync with Meta,
ERP order notifications, the HTTP API."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.messaging.declare import ensure_stream
from switchboard_runtime.messaging.caught_up import caught_up

from .api.app import Deps, create_app
from .application import ConversationsApp
from .canned import CannedResponses
from .conversation_reads import ConversationReads
from .directory import Directory
from .due import DueChanges
from .events import to_cloudevent
from .handoffs import Handoffs
from .healer import Healer
from .history import History
from .inbox_settings import InboxSettings
from .erp_intake import ErpIntake
from .lifecycle import Lifecycle
from .meta_templates import MetaTemplates
from .notification_rules import NotificationRules
from .notifications import Notifier
from .outbox import command_outbox
from .queries import Queries
from .reopener import Reopener
from .sends import Sends
from .settings import ConversationsSettings
from .sla_planner import SlaPlanner
from .sla_policies import SlaPolicies
from .starter import Starter
from .stats import Stats
from .tables import SCHEMA
from .template_sends import TemplateSends
from .template_sync import TemplateSync
from .template_updates import TemplateUpdates
from .templates import Templates

SERVICE = "conversations"
MIGRATIONS = Path(__file__).parent / "migrations"
# A batch that is not full waits this long for more: a message's accepted, sent, delivered and read
# (a few hundred ms apart) then mostly land in one batch, one row write instead of four.
HISTORY_LINGER = 0.25


async def wire(host: Host, settings: ConversationsSettings) -> None:
    engine = await host.database(MIGRATIONS, SCHEMA, pool_size=20)
    app = await host.event_store(ConversationsApp, SCHEMA)
    bus = await host.bus()
    relay = await host.relay(app, engine, SCHEMA, to_cloudevent, name="conversations")
    starter = host.add(Starter(engine, app, relay))
    lifecycle = Lifecycle(engine, app, relay)
    reopener = host.add(Reopener(engine, lifecycle))
    policies = SlaPolicies(engine)
    host.add(DueChanges(engine, lifecycle, timedelta(days=settings.archive_after_days),
                        SlaPlanner(engine, lifecycle, policies), settings.inbox_due_poll_seconds))
    commands = host.add(command_outbox(engine, bus.publisher))
    directory = Directory(engine, settled=caught_up(bus.js, streams.CONVERSATIONS_DIRECTORY))
    host.consumer(streams.CONVERSATIONS_DIRECTORY, directory.handle, batch_size=500)
    templates = Templates(engine, app, relay, directory, MetaTemplates(bus.nc))
    template_sync = host.add(TemplateSync(templates, settings.template_sync_hours, directory.meta_organizations))
    host.consumer(streams.CONVERSATIONS_TEMPLATES, TemplateUpdates(templates, template_sync.sync_account).handle,
                  batch_size=100)
    host.consumer(streams.CONVERSATIONS_LIFECYCLE, Healer(engine, app).handle, batch_size=500)
    host.consumer(streams.CONVERSATIONS_HANDOFFS, Handoffs(lifecycle, directory).handle, batch_size=100)
    host.consumer(streams.CONVERSATIONS_HISTORY, History(engine, on_new_conversations=starter.wake,
                                                         on_reopen=reopener.wake).handle,
                  batch_size=settings.history_batch_size, linger=HISTORY_LINGER)
    sends, template_sends, rules = Sends(engine, commands.wake, starter.wake), TemplateSends(engine, directory), \
        NotificationRules(engine)
    notifier = Notifier(engine, rules, directory, sends, template_sends, settings.default_region)
    await ensure_stream(bus.js, streams.ERP)
    host.consumer(streams.CONVERSATIONS_NOTIFICATIONS, ErpIntake(notifier).handle, batch_size=200)
    host.http(create_app(Deps(settings, sends, Queries(engine),
                              ConversationReads(engine), lifecycle, directory, CannedResponses(engine),
                              InboxSettings(engine), policies, Stats(engine), templates, template_sync,
                              template_sends, rules, notifier)),
              settings.conversations_host, settings.conversations_port)
    host.health_endpoint()


serve = hosted(SERVICE, ConversationsSettings, wire)


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
