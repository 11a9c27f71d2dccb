"""Blocklist events (v1): a number was added to or removed from an organization's blocklist — by the
API, or by the contact writing an opt-out (STOP) or opt-in (START) keyword. `actor`: the API's caller,
or the system (`opt_out_keyword`, `opt_in_keyword`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from .actor import Actor
from .envelope import event_type

ENTITY = "blocklist"
ADDED = event_type(ENTITY, "added")
REMOVED = event_type(ENTITY, "removed")


class BlocklistChanged(BaseModel):
    phone: str
    reason: str | None = None
    source: str  # "api" or "keyword"
    keyword: str | None = None  # the word the contact wrote, for "keyword"
    at: datetime
    actor: Actor | None = None
