"""Provider configurations of a sender (Meta Cloud API, WAHA), validated at the edge: what the
session-pool would build an HTTP client from must be usable by one (a URL httpx accepts, with a valid
host; tokens that can go into an HTTP header; Meta's numeric ids), else 422 naming the field — never
a sender that is registered and then retried forever."""

from __future__ import annotations

import string
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from switchboard_contracts.numbers import whole

HOST_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_.")
VISIBLE_ASCII = frozenset(chr(c) for c in range(0x21, 0x7F))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ProviderConfig(Strict):
    model_config = ConfigDict(hide_input_in_errors=True)  # a refused secret is never repeated


def _valid_host(host: str) -> bool:
    if ":" in host or all(c in "0123456789." for c in host):  # an IP literal (urlsplit checked it)
        return True
    if not host.isascii():
        return True  # an internationalized name: httpx.URL encodes it (IDNA) or refuses it
    for label in host.rstrip(".").split("."):
        if not label or len(label) > 63 or not set(label) <= HOST_CHARACTERS:
            return False
        if label.lower().startswith("xn--"):  # an A-label must be valid punycode
            try:
                label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                return False
    return len(host) <= 253


def _http_url(value: str) -> str:
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname or not _valid_host(parts.hostname):
        raise ValueError("must name a valid host")
    try:
        httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    return value


def _header_safe(value: SecretStr) -> SecretStr:
    """Secrets travel in HTTP headers: visible ASCII only (the value is never repeated in errors)."""
    if not set(value.get_secret_value()) <= VISIBLE_ASCII:
        raise ValueError("must be printable ASCII without spaces (it is sent in an HTTP header)")
    return value


Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
NumericId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")]  # Meta's ids are numbers
Secret = Annotated[SecretStr, Field(min_length=1, max_length=4096, json_schema_extra={"pattern": "^[!-~]+$"}),
                   AfterValidator(_header_safe)]  # the pattern: what _header_safe holds it to
# What the document promises and the API enforces alike: an http(s) URL whose host is an IPv4 address,
# an IPv6 one in brackets (`[::1]` or all eight groups), or a name of ASCII labels (letters, digits, `_`,
# single hyphens; a letter or `_` first in the last label — so no IDNA names, which JSON Schema cannot
# check: use the host's address or another name), an optional port, a path of URL characters.
# `_http_url` then holds it to what httpx accepts.
_LABEL = r"[A-Za-z0-9_]{1,20}(-[A-Za-z0-9_]{1,20}){0,2}"
_LAST_LABEL = r"[A-Za-z_][A-Za-z0-9_]{0,19}(-[A-Za-z0-9_]{1,20}){0,2}"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV6 = r"\[(::1|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){7})\]"
_PORT = r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
URL_PATTERN = (rf"^https?://(({_LABEL}\.){{0,3}}{_LAST_LABEL}|({_OCTET}\.){{3}}{_OCTET}|{_IPV6}){_PORT}"
               r"(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?$")
Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=URL_PATTERN), AfterValidator(_http_url)]


class MetaCloudConfig(ProviderConfig):
    phone_number_id: NumericId
    waba_id: NumericId
    access_token: Secret
    app_secret: Secret
    verify_token: Secret
    api_base_url: Url = "https://graph.facebook.com"
    api_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")

    SECRETS: ClassVar[tuple[str, ...]] = ("access_token", "app_secret", "verify_token")


class WahaConfig(ProviderConfig):
    base_url: Url
    session: Id
    api_key: Secret | None = None
    webhook_hmac_key: Secret | None = None
    # human pacing before each send: a typing indicator and a random, length-scaled delay
    pacing: Literal["on", "off"] | None = None
    pacing_min_ms: whole(ge=0, le=60_000) | None = None
    pacing_max_ms: whole(ge=0, le=120_000) | None = None

    SECRETS: ClassVar[tuple[str, ...]] = ("api_key", "webhook_hmac_key")


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
