"""What the flows API's routes depend on: the service's parts (`Deps`) and the organization the
gateway vouches for (`org_of`, checked on every route)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, verify

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


def org_of(request: Request) -> str:
    d = deps(request)
    if not verify(d.settings.secret_key.get_secret_value(), request.headers.get(TOKEN_HEADER)):
        raise ApiError(401, "unauthorized", "flows are reached through the gateway")
    org = request.headers.get(ORG_HEADER)
    if not org:
        raise ApiError(401, "unauthorized", "no organization")
    return org
