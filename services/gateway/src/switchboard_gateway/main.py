"""Composition root of the gateway: what it is made of, in start order (the host runs it) — the
senders read model, the services it forwards to, the API."""

from __future__ import annotations

from pathlib import Path

from switchboard_contracts import streams
from switchboard_runtime import process
from switchboard_runtime.host import Host, hosted
from switchboard_runtime.outbox import Outbox, OutboxTable
from switchboard_runtime.sealing import Sealer

from .api.app import create_app
from .api.forward import Upstream
from .api.deps import Deps
from .live_feed import LiveFeed
from .orgs import Organizations
from .people.teams import Teams
from .people.users import Users
from .read_models.projection import Projection
from .read_models.queries import Queries
from .settings import GatewaySettings
from .tables import SCHEMA

SERVICE = "gateway"
MIGRATIONS = Path(__file__).parent / "migrations"


async def wire(host: Host, settings: GatewaySettings) -> None:
    engine = await host.database(MIGRATIONS, SCHEMA, pool_size=20)
    bus = await host.bus()
    host.consumer(streams.GATEWAY_READ_MODELS, Projection(engine).handle, batch_size=500)
    secret = settings.secret_key.get_secret_value()
    campaigns = Upstream("campaigns", settings.campaigns_url, secret, timeout=60.0)  # uploads take a while
    host.closing(campaigns, campaigns.close, "campaigns upstream")
    conversations = Upstream("conversations", settings.conversations_url, secret,
                             timeout=settings.forward_timeout_seconds)
    host.closing(conversations, conversations.close, "conversations upstream")
    flows = Upstream("flows", settings.flows_url, secret, timeout=settings.forward_timeout_seconds)
    host.closing(flows, flows.close, "flows upstream")
    webhooks = Upstream("webhooks", settings.webhooks_url, secret, timeout=settings.forward_timeout_seconds)
    host.closing(webhooks, webhooks.close, "webhooks upstream")
    outbox = OutboxTable(SCHEMA)  # user.* and team.* events, published after their change commits
    events = host.add(Outbox(engine, bus.publisher, outbox, name="people-outbox"))
    app = create_app(Deps(settings, Organizations(engine), Queries(engine), bus, Sealer(secret), campaigns,
                          conversations, flows, webhooks, users=Users(engine, outbox, events.wake),
                          teams=Teams(engine, outbox, events.wake)))
    feed = host.add(LiveFeed(bus.nc, bus.js, client_queue=settings.stream_client_queue,
                             heartbeat_seconds=settings.stream_heartbeat_seconds), name="live feed")
    app.state.live_feed = feed  # GET /v1/stream
    host.http(app, settings.gateway_host, settings.gateway_port)
    # stopped before the HTTP server, which waits for open responses: every SSE stream ends first
    host.add(feed, start=lambda: None, stop=feed.end_streams, name="live streams")


serve = hosted(SERVICE, GatewaySettings, wire)


def main() -> None:
    process.run(serve)


if __name__ == "__main__":
    main()
