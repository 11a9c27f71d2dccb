"""The webhooks service's HTTP API, reached only through the gateway (which authenticates the API key
and passes the organization, actor and role with an internal token)."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard_runtime.http import errors
from switchboard_runtime.http.body_limit import BodyLimit
from switchboard_runtime.http.no_nul import RefuseNul

from . import audit, endpoints
from .deps import Deps


def create_app(d: Deps) -> FastAPI:
    app = FastAPI(title="Switchboard webhooks", version="0.1.0")
    app.state.deps = d
    errors.install(app)
    app.include_router(endpoints.router)
    app.include_router(audit.router)
    app.add_middleware(RefuseNul, max_bytes=d.settings.webhooks_max_body_bytes)
    app.add_middleware(BodyLimit, max_bytes=d.settings.webhooks_max_body_bytes)
    return app
