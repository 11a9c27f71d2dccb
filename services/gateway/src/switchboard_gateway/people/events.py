"""The user.* and team.* CloudEvents a change records (into the outbox, in the change's transaction).
Ids are deterministic — the entity's id and its version after the change — so a republish dedupes.
No event carries an API key or its hash."""

from __future__ import annotations

from datetime import datetime

from switchboard_contracts import user
from switchboard_contracts.actor import Actor
from switchboard_contracts.envelope import EncodedEvent, encode_envelope
from switchboard_contracts.ids import deterministic_id
from switchboard_runtime.telemetry import current_traceparent

SOURCE = "switchboard/gateway"


def event_id(entity: str, entity_id: str, version: int) -> str:
    return deterministic_id(entity, entity_id, version)


def user_event(type_: str, org_id: str, row, actor: dict, at: datetime) -> EncodedEvent:
    """`row`: the user (id, email, name, role, version) as it is after the change (or was, deleted)."""
    data = user.UserChanged(user_id=row.id, email=row.email, name=row.name, role=row.role, at=at,
                            actor=Actor(**actor))
    return encode_envelope(id=event_id("user", row.id, row.version), source=SOURCE, type=type_, orgid=org_id,
                           data=data, subject=row.id, time=at, traceparent=current_traceparent())


def team_event(type_: str, org_id: str, row, actor: dict, at: datetime, user_id: str | None = None) -> EncodedEvent:
    """`row`: the team (id, name, version) after the change; `user_id`: the member added or removed."""
    data = user.TeamChanged(team_id=row.id, name=row.name, user_id=user_id, at=at, actor=Actor(**actor))
    return encode_envelope(id=event_id("team", row.id, row.version), source=SOURCE, type=type_, orgid=org_id,
                           data=data, subject=row.id, time=at, traceparent=current_traceparent())
