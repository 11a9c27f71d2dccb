"""`/v1/teams`: teams of the organization's users (a conversation can be handed to a team). Admins
manage them (`roles.py`); every role reads them. A team shows its `members`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged

from ..people.teams import UnknownUser
from ..people.users import Taken
from .deps import Deps, Principal, current_principal, deps
from .people_schemas import AddMember, CreateTeam, UpdateTeam

router = APIRouter(prefix="/v1/teams", tags=["teams"])


def taken(exc: Taken) -> ApiError:
    return ApiError(409, "conflict", f"another team of the organization has this {exc.field}", {"field": exc.field})


@router.post("", status_code=201, responses=responses(400, 401, 403, 409, 422))
async def create_team(body: CreateTeam, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    try:
        return await d.teams.create(principal.org.id, body.name, principal.actor)
    except Taken as exc:
        raise taken(exc) from None


@router.get("", responses=responses(400, 401, 422))
async def list_teams(principal: Principal = Depends(current_principal), d: Deps = Depends(deps),
                     page: Page = Depends()):
    return await paged(d.teams.page, principal.org.id, page=page)


@router.get("/{team_id}", responses=responses(401, 404, 422))
async def get_team(team_id: str, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    team = await d.teams.get(principal.org.id, team_id)
    if team is None:
        raise not_found("team")
    return team


@router.patch("/{team_id}", responses=responses(400, 401, 403, 404, 409, 422))
async def update_team(team_id: str, body: UpdateTeam, principal: Principal = Depends(current_principal),
                      d: Deps = Depends(deps)):
    """Rename the team."""
    try:
        team = await d.teams.rename(principal.org.id, team_id, body.name, principal.actor)
    except Taken as exc:
        raise taken(exc) from None
    if team is None:
        raise not_found("team")
    return team


@router.delete("/{team_id}", status_code=204, responses=responses(401, 403, 404, 422))
async def delete_team(team_id: str, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    if not await d.teams.delete(principal.org.id, team_id, principal.actor):
        raise not_found("team")
    return Response(status_code=204)


@router.post("/{team_id}/members", responses=responses(400, 401, 403, 404, 422))
async def add_member(team_id: str, body: AddMember, principal: Principal = Depends(current_principal),
                     d: Deps = Depends(deps)):
    """Add a user of the organization to the team (already a member: the team as it is). 422 naming
    `user_id` when there is no such user."""
    try:
        team = await d.teams.add_member(principal.org.id, team_id, body.user_id, principal.actor)
    except UnknownUser:
        raise ApiError(422, "validation_error", "user_id: no such user in the organization",
                       {"field": "user_id", "fields": [{"field": "user_id", "message": "no such user",
                                                        "type": "unknown_user"}]}) from None
    if team is None:
        raise not_found("team")
    return team


@router.delete("/{team_id}/members/{user_id}", status_code=204, responses=responses(401, 403, 404, 422))
async def remove_member(team_id: str, user_id: str, principal: Principal = Depends(current_principal),
                        d: Deps = Depends(deps)):
    if not await d.teams.remove_member(principal.org.id, team_id, user_id, principal.actor):
        raise not_found("team member")
    return Response(status_code=204)
