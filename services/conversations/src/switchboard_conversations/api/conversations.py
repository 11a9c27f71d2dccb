"""`GET /v1/conversations` (filtered, by last activity or by waiting time), `/v1/conversations/counts`,
`/v1/conversations/{id}` and `/v1/conversations/{id}/messages`. `unread_count` is the asking user's
(or key's)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from switchboard_runtime.http.errors import not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged

from ..conversation_reads import Filters
from .app import Deps, caller, deps
from .inbox import invalid

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
Status = Literal["open", "pending", "snoozed", "resolved", "archived"]
Priority = Literal["urgent", "high", "medium", "low", "none"]


@router.get("", responses=responses(400, 401, 422, 503))
async def list_conversations(
        who: Caller = Depends(caller), d: Deps = Depends(deps), page: Page = Depends(),
        status: Status | None = Query(None), priority: Priority | None = Query(None),
        assignee: str | None = Query(None, min_length=1, max_length=64, description="a user id, `me` or `none`"),
        team: str | None = Query(None, min_length=1, max_length=64), tag: str | None = Query(None, min_length=1, max_length=64),
        unread: bool | None = Query(None, description="only those with (true) or without (false) messages "
                                                      "the asking user has not read"),
        contact: str | None = Query(None, min_length=1, max_length=32), sender_id: str | None = Query(None, min_length=1, max_length=64),
        q: str | None = Query(None, min_length=1, max_length=200, description="full-text search over the messages"),
        sla: Literal["active", "hit", "missed"] | None = Query(None, description="by the state of their SLA"),
        order: Literal["last_activity", "waiting"] = Query(
            "last_activity", description="`last_activity` (newest first) or `waiting` (those waiting for a "
                                         "reply, longest waiting first)")):
    if assignee == "me":
        if who.user_id is None:
            raise invalid("assignee", "`me` names a user: this request uses the organization's key")
        assignee = who.user_id
    f = Filters(status=status, assignee=assignee, team=team, tag=tag, priority=priority, unread=unread,
                contact=contact, sender_id=sender_id, q=q, sla=sla, order=order)
    return await paged(d.conversations.page, who.org, who.actor_id, f, page=page)


@router.get("/counts", responses=responses(401, 503))
async def counts(who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Conversations by status, those assigned to the asking user (open or pending) and the unassigned open ones."""
    return await d.conversations.counts(who.org, who.user_id)


@router.get("/{conversation_id:uuid}", responses=responses(401, 404, 503))
async def get_conversation(conversation_id: UUID, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    found = await d.conversations.one(who.org, str(conversation_id), who.actor_id)
    if found is None:
        raise not_found("conversation")
    return found


@router.get("/{conversation_id:uuid}/messages", responses=responses(400, 401, 404, 422, 503))
async def conversation_messages(conversation_id: UUID, who: Caller = Depends(caller), d: Deps = Depends(deps),
                                page: Page = Depends()):
    if await d.conversations.one(who.org, str(conversation_id), who.actor_id) is None:
        raise not_found("conversation")
    return await paged(d.queries.conversation_messages, who.org, str(conversation_id), page=page)
