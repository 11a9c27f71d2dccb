"""Who caused a command or an event: `{"type": "user|api_key|flow|system", "id"}` — a user (their id),
an organization's API key (the key's id, never the key), a flow (its execution id), or Switchboard
itself (a timer, an inbound message: `id` names the rule, e.g. `auto_archive`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

ActorType = Literal["user", "api_key", "flow", "system"]


class Actor(BaseModel):
    type: ActorType
    id: str


def system(reason: str) -> Actor:
    return Actor(type="system", id=reason)
