"""Calls from the gateway to a service's own HTTP API (e.g. the campaigns service): the gateway has
authenticated the API key; it passes the organization and a token derived from
SWITCHBOARD_SECRET_KEY, which the service checks in constant time. Never exposed outside the cluster."""

from __future__ import annotations

import hashlib
import hmac

ORG_HEADER = "x-switchboard-org"
TOKEN_HEADER = "x-switchboard-internal"


def internal_token(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"switchboard internal call v1", hashlib.sha256).hexdigest()


def verify(secret_key: str, token: str | None) -> bool:
    return bool(secret_key) and token is not None and hmac.compare_digest(internal_token(secret_key), token)


def organization_of(secret_key: str, headers, service: str) -> str:
    """The organization a call forwarded by the gateway acts for; 401 for a call that did not come
    through the gateway."""
    from .errors import ApiError

    if not verify(secret_key, headers.get(TOKEN_HEADER)):
        raise ApiError(401, "unauthorized", f"{service} is reached through the gateway")
    org = headers.get(ORG_HEADER)
    if not org:
        raise ApiError(401, "unauthorized", "no organization")
    return org
