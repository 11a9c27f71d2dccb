"""`/v1/sla-policies`: create, list, read, replace and delete SLA policies. A change recomputes the
deadlines of the organization's open conversations (within a poll interval)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from switchboard_runtime.http.errors import not_found
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged
from switchboard_runtime.http.paths import ResourceId

from .app import Deps, deps, org_of
from .inbox import invalid
from .sla_schemas import SlaPolicyRequest

router = APIRouter(prefix="/v1/sla-policies", tags=["sla"])


async def _definition(body: SlaPolicyRequest, org: str, d: Deps) -> dict:
    team = body.escalation.team_id
    if team is not None and await d.directory.team(org, team) is None:
        raise invalid("escalation.team_id", f"no team {team!r} in this organization")
    return body.model_dump(mode="json", exclude_none=True)


@router.post("", status_code=201, responses=responses(400, 401, 422, 503))
async def create(body: SlaPolicyRequest, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return await d.sla_policies.create(org, await _definition(body, org, d))


@router.get("", responses=responses(400, 401, 422, 503))
async def list_policies(org: str = Depends(org_of), d: Deps = Depends(deps), page: Page = Depends()):
    return await paged(d.sla_policies.page, org, page=page)


@router.get("/{policy_id}", responses=responses(401, 404, 503))
async def get(policy_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return await d.sla_policies.get(org, policy_id) or _missing()


@router.put("/{policy_id}", responses=responses(400, 401, 404, 422, 503))
async def replace(policy_id: ResourceId, body: SlaPolicyRequest, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return await d.sla_policies.replace(org, policy_id, await _definition(body, org, d)) or _missing()


@router.delete("/{policy_id}", status_code=204, response_class=Response, responses=responses(401, 404, 503))
async def delete(policy_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    if not await d.sla_policies.delete(org, policy_id):
        _missing()
    return Response(status_code=204)


def _missing():
    raise not_found("SLA policy")
