"""Outbound webhook endpoints (v1): an organization's HTTP receivers of its events, kept by the webhooks
service. The events say what became of an endpoint — never its signing secrets (`secret_rotated` says
only when the previous secret stops signing). `actor`: the API's caller, or the system (`gone`: the
receiver answered 410; `failing`: every attempt failed for the configured days)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from .actor import Actor
from .envelope import event_type

ENTITY = "webhook_endpoint"
CREATED = event_type(ENTITY, "created")
UPDATED = event_type(ENTITY, "updated")
DELETED = event_type(ENTITY, "deleted")
SECRET_ROTATED = event_type(ENTITY, "secret_rotated")
DISABLED = event_type(ENTITY, "disabled")
ENABLED = event_type(ENTITY, "enabled")
DisabledReason = Literal["api", "gone", "failing"]


class WebhookEndpointChanged(BaseModel):
    """The endpoint as it is after the change."""

    endpoint_id: str
    url: str
    event_types: list[str]  # filters: `*`, `message.*`, `conversation.assigned`
    description: str = ""
    enabled: bool
    at: datetime
    actor: Actor | None = None


class WebhookSecretRotated(WebhookEndpointChanged):
    previous_secret_expires_at: datetime  # until then deliveries carry a signature with each secret


class WebhookEndpointDisabled(WebhookEndpointChanged):
    reason: DisabledReason
    detail: str = ""  # e.g. "410 Gone from the receiver", "every attempt failed since …"
    failing_since: datetime | None = None
