"""What the handlers need, built once by the composition root, and the API-key authentication."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from switchboard_contracts.actor import Actor
from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.logs import bind_event_context
from switchboard_runtime.messaging.bus import Bus
from switchboard_runtime.sealing import Sealer
from switchboard_runtime.telemetry import current_traceparent, tracer

from switchboard_runtime.http.internal_auth import Caller

from ..orgs import Organization, Organizations
from ..people.teams import Teams
from ..people.users import Users
from ..roles import may
from .forward import Upstream
from ..read_models.queries import Queries
from ..settings import GatewaySettings
from switchboard_runtime.http.errors import ApiError


@dataclass
class Deps:
    settings: GatewaySettings
    orgs: Organizations
    queries: Queries
    bus: Bus
    sealer: Sealer
    campaigns: Upstream | None = None  # the services the gateway forwards to
    conversations: Upstream | None = None
    flows: Upstream | None = None
    webhooks: Upstream | None = None
    users: Users | None = None  # people: users and teams (their events through the outbox)
    teams: Teams | None = None

    async def send_command(self, command: CloudEvent) -> None:
        """Publish a command inside a span whose W3C trace context travels with it (the services
        copy it into the events the command causes)."""
        with tracer("switchboard.gateway").start_as_current_span(
                f"send {command.type}", attributes={"switchboard.orgid": command.orgid,
                                                    "cloudevents.id": command.id}):
            command = command.model_copy(update={"traceparent": current_traceparent()})
            try:
                await self.bus.publisher.publish(command)
            except Exception as exc:  # noqa: BLE001 - NATS away or slow: the client may retry
                raise ApiError(503, "unavailable", "the message bus is not available; retry later") from exc


def deps(request: Request) -> Deps:
    return request.app.state.deps


# documented as the `ApiKey` security scheme of every operation that needs it (401 when missing or wrong)
API_KEY = APIKeyHeader(name="X-API-Key", scheme_name="ApiKey", auto_error=False,
                       description="An organization's API key")


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the organization, and the actor (a user, or an organization key) with its
    role (`admin|agent|viewer`)."""

    org: Organization
    actor_type: str = "api_key"
    actor_id: str = ""
    role: str = "admin"
    user: dict | None = None  # a user's key: {id, name, email}

    @property
    def actor(self) -> dict:
        """As events name it: `{"type": "user|api_key", "id"}`."""
        return self.caller.actor

    @property
    def caller(self) -> Caller:
        """As the services behind the gateway receive it (internal headers)."""
        return Caller(self.org.id, self.actor_type, self.actor_id, self.role)


async def current_principal(request: Request, x_api_key: str | None = Security(API_KEY)) -> Principal:
    """Who the request acts for — a user's key acts as that user, with their role; the organization's own
    key as an admin — and whether that role may do what is asked (`roles.may`, 403 if not). Every
    authenticated route depends on it (or on `current_org`), the forwarding ones included."""
    if not x_api_key:
        raise ApiError(401, "unauthorized", "missing X-API-Key header")
    holder = await deps(request).orgs.holder(x_api_key)
    if holder is None:
        raise ApiError(401, "unauthorized", "invalid API key")
    bind_event_context(holder.org.id, request.headers.get("x-correlation-id"))
    if holder.user_id is None:
        principal = Principal(holder.org, "api_key", holder.key_id, "admin")
    else:
        principal = Principal(holder.org, "user", holder.user_id, holder.role,
                              {"id": holder.user_id, "name": holder.user_name, "email": holder.user_email})
    if not may(principal.role, request.method, request.url.path):
        raise ApiError(403, "forbidden", f"the {principal.role} role may not do this ({request.method})",
                       {"role": principal.role})
    return principal


async def current_org(principal: Principal = Security(current_principal)) -> Organization:
    """The organization of an authenticated (and authorized, see `current_principal`) request."""
    return principal.org


async def current_actor(principal: Principal = Security(current_principal)) -> Actor:
    """Who the request acts for, as commands and events name it."""
    return Actor(**principal.actor)
