"""Calls from the gateway to a service's own HTTP API (e.g. the campaigns service): the gateway has
authenticated the API key; it passes the organization, the acting user or key and its role, and a token
derived from SWITCHBOARD_SECRET_KEY, which the service checks in constant time. Never exposed outside
the cluster. The gateway passes on none of these headers from a client (`forward.PASSED`), so only it
sets them."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

ORG_HEADER = "x-switchboard-org"
TOKEN_HEADER = "x-switchboard-internal"
ACTOR_TYPE_HEADER = "x-switchboard-actor-type"  # user | api_key
ACTOR_ID_HEADER = "x-switchboard-actor-id"  # the user's id, or the organization key's id
ROLE_HEADER = "x-switchboard-role"  # admin | agent | viewer
ROLES = ("admin", "agent", "viewer")


@dataclass(frozen=True)
class Caller:
    """Who a forwarded request acts for: the organization, the actor (a user or an API key), its role."""

    org: str
    actor_type: str = "api_key"
    actor_id: str = ""
    role: str = "admin"

    @property
    def actor(self) -> dict:
        """As events name it: `{"type": "user|api_key|flow|system", "id"}`."""
        return {"type": self.actor_type, "id": self.actor_id}

    @property
    def user_id(self) -> str | None:
        return self.actor_id if self.actor_type == "user" else None

    def headers(self) -> dict[str, str]:
        return {ORG_HEADER: self.org, ACTOR_TYPE_HEADER: self.actor_type, ACTOR_ID_HEADER: self.actor_id,
                ROLE_HEADER: self.role}


def internal_token(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"switchboard internal call v1", hashlib.sha256).hexdigest()


def verify(secret_key: str, token: str | None) -> bool:
    return bool(secret_key) and token is not None and hmac.compare_digest(internal_token(secret_key), token)


def caller_of(secret_key: str, headers, service: str) -> Caller:
    """Who a call forwarded by the gateway acts for; 401 for a call that did not come through the gateway."""
    from .errors import ApiError

    if not verify(secret_key, headers.get(TOKEN_HEADER)):
        raise ApiError(401, "unauthorized", f"{service} is reached through the gateway")
    org = headers.get(ORG_HEADER)
    if not org:
        raise ApiError(401, "unauthorized", "no organization")
    role = headers.get(ROLE_HEADER) or "admin"
    if role not in ROLES:
        raise ApiError(401, "unauthorized", "unknown role")
    return Caller(org, headers.get(ACTOR_TYPE_HEADER) or "api_key", headers.get(ACTOR_ID_HEADER) or "", role)


def organization_of(secret_key: str, headers, service: str) -> str:
    """The organization a call forwarded by the gateway acts for (see `caller_of`)."""
    return caller_of(secret_key, headers, service).org
