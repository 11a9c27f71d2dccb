"""Request bodies (the response shapes are documented by the read models' queries)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard_contracts.sender import Quotas


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CreateSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["simulator"]
    quotas: Quotas = Field(default_factory=Quotas)


class SendMessageRequest(Strict):
    sender_id: str = Field(min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=4096)
    client_ref: str | None = Field(default=None, max_length=256)


class SimulateInboundRequest(Strict):
    from_: str = Field(alias="from", min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=4096)
    contact_name: str | None = Field(default=None, max_length=200)
