"""The inbox's actions on a conversation — assign, status (snooze), priority, tags, notes, read, the
ERP customer — each answering with the conversation's new state (read your writes), and its notes.
An illegal status change is a 409; an unknown agent or team, or a past snooze, a 422 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Depends

from switchboard_contracts.ids import new_id
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged

from ..domain.conversation import KEEP
from ..domain.errors import IllegalTransition, InvalidChange
from .app import Deps, caller, deps
from .inbox_schemas import AssignRequest, CustomerRequest, NoteRequest, PriorityRequest, StatusRequest, TagsRequest

router = APIRouter(prefix="/v1/conversations/{conversation_id:uuid}", tags=["inbox"])
ACTION = responses(400, 401, 404, 409, 422, 503)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", f"{field}: {message}",
                    {"field": field, "fields": [{"field": field, "message": message}]})


async def _act(conversation_id: UUID, who: Caller, d: Deps, decide) -> dict:
    try:
        changed = await d.lifecycle.change(who.org, str(conversation_id), decide)
    except IllegalTransition as exc:
        raise ApiError(409, "illegal_transition", str(exc), {"status": exc.current, "wanted": exc.wanted}) from exc
    except InvalidChange as exc:
        raise invalid(exc.field, exc.message) from exc
    if changed is None:
        raise not_found("conversation")
    return await d.conversations.one(who.org, str(conversation_id), who.actor_id)


async def _agent(value: str | None, who: Caller, d: Deps):
    if value is None:
        return KEEP
    if value == "none":
        return None
    if value == "me":
        if who.user_id is None:
            raise invalid("agent_id", "`me` names a user: this request uses the organization's key")
        value = who.user_id
    found = await d.directory.user(who.org, value)
    if found is None:
        raise invalid("agent_id", f"no user {value!r} in this organization")
    if found.role == "viewer":
        raise invalid("agent_id", "a viewer cannot be assigned conversations")
    return value


async def _team(value: str | None, who: Caller, d: Deps):
    if value is None:
        return KEEP
    if value == "none":
        return None
    if await d.directory.team(who.org, value) is None:
        raise invalid("team_id", f"no team {value!r} in this organization")
    return value


@router.post("/assign", responses=ACTION)
async def assign(conversation_id: UUID, body: AssignRequest, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Assign to a user (`agent_id`: an id or `me`) and/or a team; `none` clears either."""
    if await d.conversations.one(who.org, str(conversation_id), who.actor_id) is None:
        raise not_found("conversation")  # before the names are checked: another organization's is a 404
    agent, team = await _agent(body.agent_id, who, d), await _team(body.team_id, who, d)
    now = datetime.now(UTC)
    return await _act(conversation_id, who, d, lambda c: c.assign(who.actor, now, agent_id=agent, team_id=team))


@router.post("/status", responses=ACTION)
async def status(conversation_id: UUID, body: StatusRequest, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """`open`, `pending`, `snoozed` (until `snoozed_until`, or the contact's next message), `resolved`,
    `archived` (only a resolved one). An archived conversation opens again; nothing else leaves it."""
    now = datetime.now(UTC)
    return await _act(conversation_id, who, d,
                      lambda c: c.change_status(body.status, who.actor, now, snoozed_until=body.snoozed_until))


@router.post("/priority", responses=ACTION)
async def priority(conversation_id: UUID, body: PriorityRequest, who: Caller = Depends(caller),
                   d: Deps = Depends(deps)):
    now = datetime.now(UTC)
    return await _act(conversation_id, who, d, lambda c: c.set_priority(body.priority, who.actor, now))


@router.post("/tags", responses=ACTION)
async def tags(conversation_id: UUID, body: TagsRequest, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Add and remove tags (free strings; a conversation has at most 50)."""
    now = datetime.now(UTC)
    return await _act(conversation_id, who, d,
                      lambda c: c.change_tags(body.add or [], body.remove or [], who.actor, now))


@router.post("/notes", responses=ACTION)
async def add_note(conversation_id: UUID, body: NoteRequest, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """A private note: kept with the conversation, never sent to the contact."""
    now, note_id = datetime.now(UTC), new_id()
    return await _act(conversation_id, who, d, lambda c: c.add_note(note_id, body.text, who.actor, now))


@router.get("/notes", responses=responses(400, 401, 404, 422, 503))
async def notes(conversation_id: UUID, who: Caller = Depends(caller), d: Deps = Depends(deps), page: Page = Depends()):
    if await d.conversations.one(who.org, str(conversation_id), who.actor_id) is None:
        raise not_found("conversation")

    return await paged(d.conversations.notes, who.org, str(conversation_id), page=page)


@router.post("/read", responses=ACTION)
async def read(conversation_id: UUID, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Mark the conversation read (up to now) for the calling user or key: its `unread_count` is 0."""
    now = datetime.now(UTC)
    return await _act(conversation_id, who, d, lambda c: c.read(now, who.actor, now))


@router.post("/customer", responses=ACTION)
async def customer(conversation_id: UUID, body: CustomerRequest, who: Caller = Depends(caller),
                   d: Deps = Depends(deps)):
    """Link the conversation to an ERP customer id."""
    now = datetime.now(UTC)
    return await _act(conversation_id, who, d, lambda c: c.link_customer(body.customer_id, who.actor, now))
