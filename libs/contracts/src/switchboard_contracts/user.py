"""People events (v1), published by the gateway, which owns users and teams: `user.created`,
`user.updated`, `user.deleted`; `team.created`, `team.updated`, `team.deleted`, `team.member_added`,
`team.member_removed`. No event carries an API key or its hash. Each names its `actor`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from .actor import Actor
from .envelope import event_type

USER_CREATED = event_type("user", "created")
USER_UPDATED = event_type("user", "updated")
USER_DELETED = event_type("user", "deleted")
TEAM_CREATED = event_type("team", "created")
TEAM_UPDATED = event_type("team", "updated")
TEAM_DELETED = event_type("team", "deleted")
TEAM_MEMBER_ADDED = event_type("team", "member_added")
TEAM_MEMBER_REMOVED = event_type("team", "member_removed")

Role = Literal["admin", "agent", "viewer"]


class UserChanged(BaseModel):
    """A user as it is after the change (created, updated) or as it was (deleted)."""

    user_id: str
    email: str
    name: str
    role: Role
    at: datetime
    actor: Actor


class TeamChanged(BaseModel):
    """A team as it is after the change; `user_id` names the member added or removed."""

    team_id: str
    name: str
    user_id: str | None = None
    at: datetime
    actor: Actor
