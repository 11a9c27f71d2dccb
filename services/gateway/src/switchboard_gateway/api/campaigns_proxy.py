"""`/v1/campaigns…`, `/v1/broadcast-lists…` and `/v1/blocklist…` belong to the campaigns service: the
gateway authenticates the API key, checks the role (admins only for writes) and forwards the request
(`forward.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .deps import Deps, Principal, current_principal, deps

router = APIRouter(tags=["campaigns"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def streams_upload(scope) -> bool:
    """A CSV contact upload: not held by the body limit (the campaigns service streams it)."""
    path = scope.get("path", "")
    return scope.get("method") == "POST" and path.endswith("/contacts") and (
        path.startswith("/v1/campaigns/") or path.startswith("/v1/broadcast-lists/"))


@router.api_route("/v1/campaigns", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/campaigns/{rest:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/broadcast-lists", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/broadcast-lists/{rest:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/blocklist", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/blocklist/{rest:path}", methods=METHODS, include_in_schema=False)
async def campaigns(request: Request, principal: Principal = Depends(current_principal),
                    d: Deps = Depends(deps)):
    return await d.campaigns.forward(request, principal)
