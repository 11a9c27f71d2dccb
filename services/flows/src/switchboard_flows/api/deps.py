"""What the flows API's routes depend on: the service's parts (`Deps`) and the organization the
gateway vouches for (`org_of`, checked on every route; `caller` for the actor and role too)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from switchboard_runtime.http.internal_auth import Caller, caller_of

from ..application import FlowsApp
from ..auto_replies import AutoReplies
from ..engine import Engine
from ..execution_index import ExecutionIndex
from ..flow_commands import FlowCommands
from ..flow_store import FlowStore
from ..settings import FlowsSettings


@dataclass
class Deps:
    settings: FlowsSettings
    app: FlowsApp
    flows: FlowCommands
    store: FlowStore
    index: ExecutionIndex
    engine: Engine
    auto_replies: AutoReplies


def deps(request: Request) -> Deps:
    return request.app.state.deps


def caller(request: Request) -> Caller:
    """Who the call forwarded by the gateway acts for: organization, actor (user or API key) and role
    (401 for a call that did not come through the gateway)."""
    return caller_of(deps(request).settings.secret_key.get_secret_value(), request.headers, "flows")


def org_of(request: Request) -> str:
    return caller(request).org
