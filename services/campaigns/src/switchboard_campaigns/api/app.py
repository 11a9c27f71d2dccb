"""The campaigns service's HTTP API, reached only through the gateway (which authenticates the API
key and passes the organization with an internal token)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.http import errors
from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, verify

from ..application import CampaignsApp
from ..blocklist import Blocklist
from ..broadcast_lists import BroadcastLists
from ..contacts_store import ContactsStore
from ..imports import ImportLog
from ..lifecycle import Lifecycle
from ..settings import CampaignsSettings


@dataclass
class Deps:
    settings: CampaignsSettings
    app: CampaignsApp
    engine: AsyncEngine
    lifecycle: Lifecycle
    contacts: ContactsStore
    blocklist: Blocklist
    publisher: object  # switchboard_runtime Publisher: blocklist events
    lists: BroadcastLists
    imports: ImportLog


def deps(request: Request) -> Deps:
    return request.app.state.deps


def org_of(request: Request) -> str:
    d = deps(request)
    if not verify(d.settings.secret_key.get_secret_value(), request.headers.get(TOKEN_HEADER)):
        raise ApiError(401, "unauthorized", "campaigns are reached through the gateway")
    org = request.headers.get(ORG_HEADER)
    if not org:
        raise ApiError(401, "unauthorized", "no organization")
    return org


def create_app(d: Deps) -> FastAPI:
    from . import blocklist, broadcast_lists, campaigns

    app = FastAPI(title="Switchboard campaigns", version="0.1.0")
    app.state.deps = d
    errors.install(app)
    app.include_router(campaigns.router)
    app.include_router(blocklist.router)
    app.include_router(broadcast_lists.router)
    return app
