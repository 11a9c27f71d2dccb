"""The conversations service's HTTP API — messages, conversations and the inbox, canned responses —
reached only through the gateway (which authenticates the API key and passes the organization, the
acting user or key and its role, with an internal token)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from switchboard_runtime.http import errors
from switchboard_runtime.http.internal_auth import Caller, caller_of

from ..canned import CannedResponses
from ..conversation_reads import ConversationReads
from ..directory import Directory
from ..inbox_settings import InboxSettings
from ..lifecycle import Lifecycle
from ..queries import Queries
from ..sends import Sends
from ..settings import ConversationsSettings
from ..sla_policies import SlaPolicies
from ..stats import Stats
from ..notification_rules import NotificationRules
from ..notifications import Notifier
from ..template_sends import TemplateSends
from ..template_sync import TemplateSync
from ..templates import Templates
from .openapi import without_nulls
from .schemas import TAGS


@dataclass
class Deps:
    settings: ConversationsSettings
    sends: Sends
    queries: Queries
    conversations: ConversationReads | None = None
    lifecycle: Lifecycle | None = None
    directory: Directory | None = None
    canned: CannedResponses | None = None
    inbox_settings: InboxSettings | None = None
    sla_policies: SlaPolicies | None = None
    stats: Stats | None = None
    templates: Templates | None = None
    template_sync: TemplateSync | None = None
    template_sends: TemplateSends | None = None
    notification_rules: NotificationRules | None = None
    notifier: Notifier | None = None


def deps(request: Request) -> Deps:
    return request.app.state.deps


def caller(request: Request) -> Caller:
    return caller_of(deps(request).settings.secret_key.get_secret_value(), request.headers,
                     "the conversations service")


def org_of(request: Request) -> str:
    return caller(request).org


def create_app(d: Deps) -> FastAPI:
    from . import canned, conversations, inbox, messages, notifications, replies, settings, sla, stats, templates

    app = FastAPI(title="Switchboard conversations", version="0.1.0")
    app.state.deps = d
    errors.install(app)
    for module in (messages, conversations, inbox, replies, canned, settings, sla, stats, templates, notifications):
        app.include_router(module.router)
    app.include_router(notifications.rules)
    without_nulls(app)
    _untagged_errors(app)
    return app


def _untagged_errors(app: FastAPI) -> None:
    """A body is one of several models chosen by `type`; an error names the field, not the model."""
    answer = app.exception_handlers[RequestValidationError]
    tags = TAGS | {"canned"}

    async def untagged(request: Request, exc: RequestValidationError):
        errors = [{**e, "loc": ("body", "type")} if e.get("type") == "invalid_type"
                  else {**e, "loc": (e["loc"][0], *e["loc"][2:])}
                  if len(e.get("loc", ())) > 2 and e["loc"][0] == "body" and e["loc"][1] in tags else e
                  for e in exc.errors()]
        return await answer(request, RequestValidationError(errors, body=exc.body))

    app.add_exception_handler(RequestValidationError, untagged)
