"""Request bodies (the response shapes are documented by the read models' queries)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from switchboard_contracts.numbers import WholeNumber, whole
from switchboard_contracts.sender import Label, Quotas, Warmup

from .provider_config import (Id, MetaCloudConfig, Secret, Strict, Url, WahaConfig,  # noqa: F401 - re-exported
                              split_config)


class WarmupBody(Warmup):
    model_config = ConfigDict(extra="forbid")


class QuotasBody(Quotas):
    """The quotas as a request gives them: only these fields (an unknown one is a 422, as documented)."""

    model_config = ConfigDict(extra="forbid")
    warmup: WarmupBody | None = None


class CreateSimulatorSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["simulator"]
    quotas: QuotasBody = Field(default_factory=QuotasBody)
    labels: list[Label] = Field(default_factory=list, max_length=20)


class CreateMetaCloudSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["meta-cloud"]
    config: MetaCloudConfig
    quotas: QuotasBody = Field(default_factory=QuotasBody)
    labels: list[Label] = Field(default_factory=list, max_length=20)


class CreateWahaSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["waha"]
    config: WahaConfig
    quotas: QuotasBody = Field(default_factory=QuotasBody)
    labels: list[Label] = Field(default_factory=list, max_length=20)


CreateSender = Annotated[CreateSimulatorSender | CreateMetaCloudSender | CreateWahaSender,
                         Field(discriminator="provider")]


class SimulateInboundRequest(Strict):
    from_: str = Field(alias="from", min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=4096)
    contact_name: str | None = Field(default=None, max_length=200)
    reply_id: str = Field(default=None, min_length=1, max_length=256,
                          description="the contact tapped the reply button with this id (`text`: its title)")


class PauseRequest(Strict):
    reason: str = Field(default="paused by an operator", min_length=1, max_length=500)


class UpdateSenderRequest(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    quotas: QuotasBody | None = None
    labels: list[Label] | None = Field(default=None, max_length=20)


class PairingCodeRequest(Strict):
    phone_number: str = Field(min_length=1, max_length=32)


class SimulateSenderRequest(Strict):
    """Simulator only: the next sends answer these provider error codes (in turn), each send takes
    `latency_ms`, the connection drops (`disconnect`, with `refuse_reconnects` failed attempts
    before it comes back), or the session waits for a QR scan (`issue_qr`, then `scan_qr`)."""

    error_codes: list[WholeNumber | Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list,
                                                                                          max_length=1000)
    latency_ms: whole(ge=0, le=60_000) | None = None
    disconnect: bool = False
    refuse_reconnects: whole(ge=0, le=1000) = 0
    issue_qr: bool = False
    scan_qr: bool = False
