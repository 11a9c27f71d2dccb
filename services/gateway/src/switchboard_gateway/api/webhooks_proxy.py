"""`/v1/webhook-endpoints…` and `/v1/audit/export` belong to the webhooks service: the gateway
authenticates the API key, checks the role (only admins change endpoints or read the audit export) and
forwards the request (`forward.py`; the audit file is streamed through as it is read)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .deps import Deps, Principal, current_principal, deps

router = APIRouter(tags=["webhooks"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/v1/webhook-endpoints", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/webhook-endpoints/{rest:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/audit/{rest:path}", methods=METHODS, include_in_schema=False)
async def webhooks(request: Request, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    return await d.webhooks.forward(request, principal)
