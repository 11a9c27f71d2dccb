"""What the handlers need, built once by the composition root, and the API-key authentication."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.logs import bind_event_context
from switchboard_runtime.messaging.bus import Bus
from switchboard_runtime.sealing import Sealer
from switchboard_runtime.telemetry import current_traceparent, tracer

from switchboard_runtime.http.internal_auth import Caller

from ..orgs import Organization, Organizations
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


async def current_org(request: Request, x_api_key: str | None = Security(API_KEY)) -> Organization:
    if not x_api_key:
        raise ApiError(401, "unauthorized", "missing X-API-Key header")
    org = await deps(request).orgs.by_key(x_api_key)
    if org is None:
        raise ApiError(401, "unauthorized", "invalid API key")
    bind_event_context(org.id, request.headers.get("x-correlation-id"))
    return org


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the organization, and the actor (a user, or an organization key) with its
    role (`admin|agent|viewer`)."""

    org: Organization
    actor_type: str = "api_key"
    actor_id: str = ""
    role: str = "admin"

    @property
    def caller(self) -> Caller:
        """As the services behind the gateway receive it (internal headers)."""
        return Caller(self.org.id, self.actor_type, self.actor_id, self.role)


async def current_principal(org: Organization = Security(current_org)) -> Principal:
    """The organization's own key acts as an admin (users and their keys: the people issue)."""
    return Principal(org)
