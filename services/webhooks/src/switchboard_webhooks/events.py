"""The webhook_endpoint.* CloudEvents a change records (into the outbox, in the change's transaction).
Ids are deterministic — the endpoint's id and its version after the change — so a republish dedupes.
No event carries a secret."""

from __future__ import annotations

from datetime import datetime

from switchboard_contracts import webhook_endpoint as hooks
from switchboard_contracts.actor import Actor
from switchboard_contracts.envelope import EncodedEvent, encode_envelope
from switchboard_contracts.ids import deterministic_id
from switchboard_runtime.telemetry import current_traceparent

SOURCE = "switchboard/webhooks"


def endpoint_event(type_: str, row, actor: dict | None, at: datetime, **extra) -> EncodedEvent:
    """`row`: the endpoint (id, org_id, url, event_types, description, enabled, version) after the change."""
    fields = dict(endpoint_id=str(row.id), url=row.url, event_types=list(row.event_types),
                  description=row.description, enabled=row.enabled, at=at,
                  actor=Actor(**actor) if actor else None, **extra)
    model = {hooks.SECRET_ROTATED: hooks.WebhookSecretRotated,
             hooks.DISABLED: hooks.WebhookEndpointDisabled}.get(type_, hooks.WebhookEndpointChanged)
    return encode_envelope(id=deterministic_id("webhook_endpoint", str(row.id), row.version), source=SOURCE,
                           type=type_, orgid=row.org_id, data=model(**fields), subject=str(row.id), time=at,
                           traceparent=current_traceparent())
