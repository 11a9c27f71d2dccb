"""What the campaigns API's routes depend on: the service's parts (`Deps`) and the organization the
gateway vouches for (`org_of`, checked on every route)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

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
