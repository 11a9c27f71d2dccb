"""Request bodies (the response shapes are documented by the read models' queries)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from switchboard_contracts.sender import Label, Quotas


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=4096)]
Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^https?://")]


class MetaCloudConfig(Strict):
    phone_number_id: Id
    waba_id: Id
    access_token: Secret
    app_secret: Secret
    verify_token: Secret
    api_base_url: Url = "https://graph.facebook.com"
    api_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")

    SECRETS: ClassVar[tuple[str, ...]] = ("access_token", "app_secret", "verify_token")


class WahaConfig(Strict):
    base_url: Url
    session: Id
    api_key: Secret | None = None
    webhook_hmac_key: Secret | None = None
    # human pacing before each send: a typing indicator and a random, length-scaled delay
    pacing: Literal["on", "off"] | None = None
    pacing_min_ms: int | None = Field(default=None, ge=0, le=60_000)
    pacing_max_ms: int | None = Field(default=None, ge=0, le=120_000)

    SECRETS: ClassVar[tuple[str, ...]] = ("api_key", "webhook_hmac_key")


class CreateSimulatorSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["simulator"]
    quotas: Quotas = Field(default_factory=Quotas)
    labels: list[Label] = Field(default_factory=list, max_length=20)


class CreateMetaCloudSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["meta-cloud"]
    config: MetaCloudConfig
    quotas: Quotas = Field(default_factory=Quotas)
    labels: list[Label] = Field(default_factory=list, max_length=20)


class CreateWahaSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["waha"]
    config: WahaConfig
    quotas: Quotas = Field(default_factory=Quotas)
    labels: list[Label] = Field(default_factory=list, max_length=20)


CreateSender = Annotated[CreateSimulatorSender | CreateMetaCloudSender | CreateWahaSender,
                         Field(discriminator="provider")]


def split_config(config: MetaCloudConfig | WahaConfig | None) -> tuple[dict[str, str], dict[str, str]]:
    """(the non-secret settings, the secrets) of a provider configuration."""
    if config is None:
        return {}, {}
    plain, secret = {}, {}
    for name, value in config:
        if value is None:
            continue
        if name in config.SECRETS:
            secret[name] = value.get_secret_value()
        else:
            plain[name] = str(value)
    return plain, secret


class SimulateInboundRequest(Strict):
    from_: str = Field(alias="from", min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=4096)
    contact_name: str | None = Field(default=None, max_length=200)


class PauseRequest(Strict):
    reason: str = Field(default="paused by an operator", min_length=1, max_length=500)


class UpdateSenderRequest(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    quotas: Quotas | None = None
    labels: list[Label] | None = Field(default=None, max_length=20)


class PairingCodeRequest(Strict):
    phone_number: str = Field(min_length=1, max_length=32)


class SimulateSenderRequest(Strict):
    """Simulator only: the next sends answer these provider error codes (in turn), each send takes
    `latency_ms`, the connection drops (`disconnect`, with `refuse_reconnects` failed attempts
    before it comes back), or the session waits for a QR scan (`issue_qr`, then `scan_qr`)."""

    error_codes: list[int | Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list,
                                                                                          max_length=1000)
    latency_ms: int | None = Field(default=None, ge=0, le=60_000)
    disconnect: bool = False
    refuse_reconnects: int = Field(default=0, ge=0, le=1000)
    issue_qr: bool = False
    scan_qr: bool = False
