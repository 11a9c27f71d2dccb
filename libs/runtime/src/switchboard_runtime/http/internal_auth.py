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
