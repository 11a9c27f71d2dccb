"""Sender events: `sender.registered`, `sender.connected` (v1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from .envelope import event_type

ENTITY = "sender"
REGISTERED = event_type(ENTITY, "registered")
CONNECTED = event_type(ENTITY, "connected")


class Provider(StrEnum):
    SIMULATOR = "simulator"


class Quotas(BaseModel):
    """Messages a sender may send per window; None means no limit for that window."""

    per_minute: int | None = Field(default=None, ge=1)
    per_hour: int | None = Field(default=None, ge=1)
    per_day: int | None = Field(default=None, ge=1)


class SenderRegistered(BaseModel):
    sender_id: str
    name: str
    provider: Provider
    quotas: Quotas
    phone_number: str | None = None
    registered_at: datetime


class SenderConnected(BaseModel):
    sender_id: str
    connected_at: datetime
