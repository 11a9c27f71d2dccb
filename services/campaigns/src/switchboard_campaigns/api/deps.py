"""What the campaigns API's routes depend on: the service's parts (`Deps`) and the organization the
gateway vouches for (`org_of`, checked on every route; `caller` for the actor and role too)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.http.internal_auth import Caller, caller_of

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


def caller(request: Request) -> Caller:
    """Who the call forwarded by the gateway acts for: organization, actor (user or API key) and role
    (401 for a call that did not come through the gateway)."""
    return caller_of(deps(request).settings.secret_key.get_secret_value(), request.headers, "campaigns")


def org_of(request: Request) -> str:
    return caller(request).org
