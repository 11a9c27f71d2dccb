"""Provider configurations are validated at the edge: URLs an HTTP client can use (no whitespace or
control characters, a valid host, IDNA included), secrets that can go into HTTP headers, Meta's
numeric ids — else 422 naming the field, and the secret never echoed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from switchboard_gateway.api.provider_config import URL_PATTERN, MetaCloudConfig, WahaConfig

from .helpers import running_gateway

META = {"phone_number_id": "106540352242922", "waba_id": "102290129340398", "access_token": "EAAB-access",
        "app_secret": "app-secret-x", "verify_token": "verify-x"}
BAD_URLS = ["https://bad\x01host.example", "http://exa mple.com", "https://graph.facebook.com\n",
            "https://☃-⌘.com", "https://xn--zz.com", "https://a..b.com", "http://:80", "https://[::1",
            "http://host.example:99999", "https:///path", "ftp://graph.facebook.com", "http://",
            "https://münchen.de", "https://xn--mnchen-3ya.de/api"]  # IDNA names: not checkable by the schema
GOOD_URLS = ["https://graph.facebook.com", "http://127.0.0.1:3000", "http://waha:3000/", "http://10.0.0.7",
             "http://[::1]:8080", "http://[2001:db8:0:0:0:0:0:1]/api", "http://waha_1:3000"]


def _fields(exc: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.errors()}


@pytest.mark.parametrize("url", BAD_URLS)
def test_urls_a_client_cannot_use_are_refused(url):
    with pytest.raises(ValidationError) as meta:
        MetaCloudConfig.model_validate({**META, "api_base_url": url})
    with pytest.raises(ValidationError) as waha:
        WahaConfig.model_validate({"base_url": url, "session": "shop"})
    assert _fields(meta.value) == {"api_base_url"} and _fields(waha.value) == {"base_url"}


@pytest.mark.parametrize("url", GOOD_URLS)
def test_usable_urls_are_accepted(url):
    assert WahaConfig.model_validate({"base_url": url, "session": "shop"}).base_url == url


@pytest.mark.parametrize("secret", ["EAAB-é", "tok en", "tok\r\nX-Injected: 1", "\x00", "🔑"])
def test_secrets_must_fit_in_an_http_header(secret):
    for field in MetaCloudConfig.SECRETS:
        with pytest.raises(ValidationError) as exc:
            MetaCloudConfig.model_validate({**META, field: secret})
        assert _fields(exc.value) == {field} and secret not in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        WahaConfig.model_validate({"base_url": "http://waha:3000", "session": "s", "api_key": secret})
    assert _fields(exc.value) == {"api_key"}


@pytest.mark.parametrize("field", ["phone_number_id", "waba_id"])
@pytest.mark.parametrize("value", ["abc123", "12-34", "１２３", ""])
def test_meta_ids_are_numeric(field, value):
    with pytest.raises(ValidationError) as exc:
        MetaCloudConfig.model_validate({**META, field: value})
    assert _fields(exc.value) == {field}
    assert MetaCloudConfig.model_validate(META).waba_id == "102290129340398"


async def test_the_api_answers_422_naming_the_field(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, _, orgs):
        _, key = await orgs.create("Acme")
        cases = [("meta-cloud", {**META, "api_base_url": "https://☃-⌘.com"}, "config.api_base_url"),
                 ("meta-cloud", {**META, "access_token": "EAAB-ñ"}, "config.access_token"),
                 ("meta-cloud", {**META, "phone_number_id": "pn-1"}, "config.phone_number_id"),
                 ("waha", {"base_url": "http://wa\x07ha:3000", "session": "shop"}, "config.base_url")]
        for provider, config, field in cases:
            r = await client.post("/v1/senders", headers={"X-API-Key": key},
                                  json={"name": "n", "provider": provider, "config": config})
            assert r.status_code == 422, (field, r.text)
            error = r.json()["error"]
            assert error["code"] == "validation_error"
            assert field in {f["field"].split(".", 1)[-1] if f["field"].startswith(provider) else f["field"]
                             for f in error["details"]["fields"]}, error
            assert "ñ" not in r.text


@settings(max_examples=500, deadline=None)
@given(st.from_regex(URL_PATTERN, fullmatch=True))
def test_every_url_the_document_allows_is_accepted(url):
    """The OpenAPI document's pattern is exact: nothing it allows is refused by the checks behind it."""
    assert WahaConfig.model_validate({"base_url": url, "session": "shop"}).base_url == url
