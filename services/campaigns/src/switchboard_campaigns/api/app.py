"""The campaigns service's HTTP API, reached only through the gateway (which authenticates the API
key and passes the organization with an internal token)."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard_runtime.http import errors

from . import blocklist, broadcast_lists, campaigns
from .deps import Deps


def create_app(d: Deps) -> FastAPI:
    app = FastAPI(title="Switchboard campaigns", version="0.1.0")
    app.state.deps = d
    errors.install(app)
    app.include_router(campaigns.router)
    app.include_router(blocklist.router)
    app.include_router(broadcast_lists.router)
    return app
