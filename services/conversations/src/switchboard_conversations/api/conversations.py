"""`GET /v1/conversations`, `/v1/conversations/{id}` and `/v1/conversations/{id}/messages`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from switchboard_runtime.http.errors import not_found
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged

from .app import Deps, deps, org_of

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


@router.get("", responses=responses(400, 401, 422, 503))
async def list_conversations(org: str = Depends(org_of), d: Deps = Depends(deps), page: Page = Depends()):
    return await paged(d.queries.conversations, org, page=page)


@router.get("/{conversation_id:uuid}", responses=responses(401, 404, 503))
async def get_conversation(conversation_id: UUID, org: str = Depends(org_of), d: Deps = Depends(deps)):
    found = await d.queries.conversation(org, str(conversation_id))
    if found is None:
        raise not_found("conversation")
    return found


@router.get("/{conversation_id:uuid}/messages", responses=responses(400, 401, 404, 422, 503))
async def conversation_messages(conversation_id: UUID, org: str = Depends(org_of), d: Deps = Depends(deps),
                                page: Page = Depends()):
    if await d.queries.conversation(org, str(conversation_id)) is None:
        raise not_found("conversation")
    return await paged(d.queries.conversation_messages, org, str(conversation_id), page=page)
