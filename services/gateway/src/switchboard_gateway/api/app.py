"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard_runtime.http import errors
from switchboard_runtime.http.body_limit import BodyLimit
from switchboard_runtime.http.no_nul import RefuseNul
from switchboard_runtime.telemetry import fastapi_telemetry

from . import campaigns_proxy, conversations, flows_proxy, health, messages, openapi_merge, sender_live, senders
from . import teams, users, webhooks_proxy
from . import stream
from .deps import Deps


def streamed(scope) -> bool:
    return campaigns_proxy.streams_upload(scope) or flows_proxy.streams_definition(scope)


def create_app(d: Deps) -> FastAPI:
    app = FastAPI(title="Switchboard", version="0.1.0",
                  description="WhatsApp messaging for businesses. Authenticate with `X-API-Key`.",
                  telemetry=fastapi_telemetry(d.settings.otel_exporter))
    app.state.deps = d
    errors.install(app)
    for module in (health, senders, sender_live, messages, conversations, campaigns_proxy, flows_proxy, users,
                   teams, webhooks_proxy):
        app.include_router(module.router)
    app.include_router(stream.router)  # GET /v1/stream (SSE; app.state.live_feed, set by main)
    # /openapi.json (and /docs): this document merged with those of the services the gateway forwards to
    openapi_merge.install(app, {"campaigns": d.settings.campaigns_url,
                                "conversations": d.settings.conversations_url, "flows": d.settings.flows_url,
                                "webhooks": d.settings.webhooks_url})
    # contact uploads and flow definitions stream through to their service, which bounds and checks them
    app.add_middleware(RefuseNul, max_bytes=d.settings.max_body_bytes, streamed=streamed)
    app.add_middleware(BodyLimit, max_bytes=d.settings.max_body_bytes, streamed=streamed)
    return app
