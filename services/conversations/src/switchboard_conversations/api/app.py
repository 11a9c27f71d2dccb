"""The conversations service's HTTP API — messages and conversations — reached only through the
gateway (which authenticates the API key and passes the organization with an internal token)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from switchboard_runtime.http import errors
from switchboard_runtime.http.internal_auth import organization_of

from ..queries import Queries
from ..sends import Sends
from ..settings import ConversationsSettings
from .openapi import without_nulls
from .schemas import TAGS


@dataclass
class Deps:
    settings: ConversationsSettings
    sends: Sends
    queries: Queries


def deps(request: Request) -> Deps:
    return request.app.state.deps


def org_of(request: Request) -> str:
    return organization_of(deps(request).settings.secret_key.get_secret_value(), request.headers,
                           "the conversations service")


def create_app(d: Deps) -> FastAPI:
    from . import conversations, messages

    app = FastAPI(title="Switchboard conversations", version="0.1.0")
    app.state.deps = d
    errors.install(app)
    app.include_router(messages.router)
    app.include_router(conversations.router)
    without_nulls(app)
    _untagged_errors(app)
    return app


def _untagged_errors(app: FastAPI) -> None:
    """A body is one of several models chosen by `type`; an error names the field, not the model."""
    answer = app.exception_handlers[RequestValidationError]

    async def untagged(request: Request, exc: RequestValidationError):
        errors = [{**e, "loc": ("body", "type")} if e.get("type") == "invalid_type"
                  else {**e, "loc": (e["loc"][0], *e["loc"][2:])}
                  if len(e.get("loc", ())) > 2 and e["loc"][0] == "body" and e["loc"][1] in TAGS else e
                  for e in exc.errors()]
        return await answer(request, RequestValidationError(errors, body=exc.body))

    app.add_exception_handler(RequestValidationError, untagged)
