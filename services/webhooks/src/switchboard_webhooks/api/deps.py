"""What the webhooks API's routes depend on: the service's parts and the caller the gateway vouches for."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from switchboard_runtime.http.internal_auth import Caller, caller_of

from ..attempts import AttemptLog
from ..endpoint_store import EndpointStore
from ..job_store import JobStore
from ..settings import WebhooksSettings


@dataclass
class Deps:
    settings: WebhooksSettings
    endpoints: EndpointStore
    attempts: AttemptLog
    jobs: JobStore
    js: object  # JetStream: the stream's position for a new endpoint, the audit export


def deps(request: Request) -> Deps:
    return request.app.state.deps


def caller(request: Request) -> Caller:
    return caller_of(deps(request).settings.secret_key.get_secret_value(), request.headers, "webhooks")
