"""`/v1/users`: the organization's users, each with a role (admin, agent, viewer) and a personal API key,
returned once when the user is created. Admins manage them (`roles.py`); every role reads them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged

from ..people.users import Taken
from .deps import Deps, Principal, current_principal, deps
from .people_schemas import CreateUser, UpdateUser

router = APIRouter(prefix="/v1/users", tags=["users"])


def taken(exc: Taken) -> ApiError:
    return ApiError(409, "conflict", f"another user of the organization has this {exc.field}", {"field": exc.field})


@router.post("", status_code=201, responses=responses(400, 401, 403, 409, 422))
async def create_user(body: CreateUser, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    """A new user; `api_key` is their personal key, shown only in this answer (stored hashed)."""
    try:
        user, key = await d.users.create(principal.org.id, body.email, body.name, body.role, principal.actor)
    except Taken as exc:
        raise taken(exc) from None
    return {**user, "api_key": key}


@router.get("", responses=responses(400, 401, 422))
async def list_users(principal: Principal = Depends(current_principal), d: Deps = Depends(deps),
                     page: Page = Depends()):
    return await paged(d.users.page, principal.org.id, page=page)


@router.get("/{user_id}", responses=responses(401, 404, 422))
async def get_user(user_id: str, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    user = await d.users.get(principal.org.id, user_id)
    if user is None:
        raise not_found("user")
    return user


@router.patch("/{user_id}", responses=responses(400, 401, 403, 404, 409, 422))
async def update_user(user_id: str, body: UpdateUser, principal: Principal = Depends(current_principal),
                      d: Deps = Depends(deps)):
    """Change the email, name or role; fields left out stay as they are."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ApiError(422, "validation_error", "nothing to change: give email, name or role",
                       {"fields": ["email", "name", "role"]})
    try:
        user = await d.users.update(principal.org.id, user_id, changes, principal.actor)
    except Taken as exc:
        raise taken(exc) from None
    if user is None:
        raise not_found("user")
    return user


@router.delete("/{user_id}", status_code=204, responses=responses(401, 403, 404, 422))
async def delete_user(user_id: str, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    """Delete the user: their key is refused (401) from now on, and they leave their teams."""
    if not await d.users.delete(principal.org.id, user_id, principal.actor):
        raise not_found("user")
    return Response(status_code=204)
