"""`/v1/conversations`."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..orgs import Organization
from .deps import Deps, current_org, deps
from switchboard_runtime.http.errors import not_found
from .pagination import Page, paged

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


@router.get("")
async def list_conversations(org: Organization = Depends(current_org), d: Deps = Depends(deps),
                             page: Page = Depends()):
    return await paged(d.queries.conversations, org.id, page=page)


@router.get("/{conversation_id}")
async def get_conversation(conversation_id: str, org: Organization = Depends(current_org),
                           d: Deps = Depends(deps)):
    found = await d.queries.conversation(org.id, conversation_id)
    if found is None:
        raise not_found("conversation")
    return found


@router.get("/{conversation_id}/messages")
async def conversation_messages(conversation_id: str, org: Organization = Depends(current_org),
                                d: Deps = Depends(deps), page: Page = Depends()):
    if await d.queries.conversation(org.id, conversation_id) is None:
        raise not_found("conversation")
    return await paged(d.queries.conversation_messages, org.id, conversation_id, page=page)
