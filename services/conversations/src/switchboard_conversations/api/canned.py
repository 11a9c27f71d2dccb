"""`/v1/canned-responses`: create, list, read, change and delete an organization's canned responses."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from switchboard_runtime.http.errors import not_found
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged
from switchboard_runtime.http.paths import ResourceId

from .app import Deps, deps, org_of
from .inbox_schemas import CannedResponsePatch, CannedResponseRequest

router = APIRouter(prefix="/v1/canned-responses", tags=["canned responses"])


@router.post("", status_code=201, responses=responses(400, 401, 409, 422, 503))
async def create(body: CannedResponseRequest, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return await d.canned.create(org, body.short_code, body.content)


@router.get("", responses=responses(400, 401, 422, 503))
async def list_canned(org: str = Depends(org_of), d: Deps = Depends(deps), page: Page = Depends()):
    return await paged(d.canned.page, org, page=page)


@router.get("/{canned_id}", responses=responses(401, 404, 503))
async def get(canned_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return await d.canned.get(org, canned_id) or _missing()


@router.patch("/{canned_id}", responses=responses(400, 401, 404, 409, 422, 503))
async def update(canned_id: ResourceId, body: CannedResponsePatch, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return await d.canned.update(org, canned_id, body.short_code, body.content) or _missing()


@router.delete("/{canned_id}", status_code=204, response_class=Response, responses=responses(401, 404, 503))
async def delete(canned_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    if not await d.canned.delete(org, canned_id):
        _missing()
    return Response(status_code=204)


def _missing():
    raise not_found("canned response")
