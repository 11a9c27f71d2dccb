"""Request bodies (the response shapes are documented by the read models' queries)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from switchboard_contracts.sender import Quotas


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

    SECRETS: ClassVar[tuple[str, ...]] = ("api_key", "webhook_hmac_key")


class CreateSimulatorSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["simulator"]
    quotas: Quotas = Field(default_factory=Quotas)


class CreateMetaCloudSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["meta-cloud"]
    config: MetaCloudConfig
    quotas: Quotas = Field(default_factory=Quotas)


class CreateWahaSender(Strict):
    name: str = Field(min_length=1, max_length=200)
    provider: Literal["waha"]
    config: WahaConfig
    quotas: Quotas = Field(default_factory=Quotas)


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
            plain[name] = value
    return plain, secret


class SendMessageRequest(Strict):
    sender_id: str = Field(min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=4096)
    client_ref: str | None = Field(default=None, max_length=256)
    ttl_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)


class SimulateInboundRequest(Strict):
    from_: str = Field(alias="from", min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=4096)
    contact_name: str | None = Field(default=None, max_length=200)


class PauseRequest(Strict):
    reason: str = Field(default="paused by an operator", min_length=1, max_length=500)
