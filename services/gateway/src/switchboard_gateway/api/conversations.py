"""`/v1/conversations…` and `GET /v1/messages/{id}` belong to the conversations service, which
answers them from its own tables: the gateway authenticates the API key and forwards (`forward.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..orgs import Organization
from .deps import Deps, current_org, deps

router = APIRouter(tags=["conversations"])


@router.get("/v1/conversations", include_in_schema=False)
@router.get("/v1/conversations/{rest:path}", include_in_schema=False)
@router.get("/v1/messages/{message_id:uuid}", include_in_schema=False)  # ids are UUIDs (and not "bulk")
async def conversations(request: Request, org: Organization = Depends(current_org), d: Deps = Depends(deps)):
    return await d.conversations.forward(request, org)
