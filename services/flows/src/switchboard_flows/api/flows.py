"""`/v1/flows`: create a draft, replace it, validate without saving, publish revisions, activate and
deactivate, list revisions, delete. A bad definition is a 422 whose `error.details.problems` lists
every problem as `{"node", "message"}`."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from switchboard_contracts.ids import new_id
from switchboard_runtime.eventstore import call
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import json_body, responses

from ..domain.definition import DefinitionInvalid, parse_definition
from ..domain.flow import Flow, FlowStateError
from .deps import Deps, caller, deps, org_of
from .schemas import FlowDefinitionBody, ResourceId, UuidCursor

router = APIRouter(prefix="/v1/flows", tags=["flows"])
DEFINITION = json_body(FlowDefinitionBody)


def invalid(exc: DefinitionInvalid) -> ApiError:
    problems = [{"node": p.node, "message": p.message} for p in exc.problems]
    return ApiError(422, "invalid_definition", f"the flow has {len(problems)} problem(s)",
                    {"problems": problems})


async def definition_of(request: Request) -> dict[str, Any]:
    """The body, checked: the normalized definition (a 400 for malformed JSON, a 422 listing problems)."""
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_definition", "a flow is a JSON object",
                       {"problems": [{"node": None, "message": "a flow is a JSON object"}]})
    try:
        return parse_definition(body).as_json()
    except DefinitionInvalid as exc:
        raise invalid(exc) from exc


def flow_view(flow: Flow) -> dict[str, Any]:
    current = flow.revisions[-1] if flow.revisions else flow.draft
    return {"id": str(flow.id), "name": flow.name, "active": flow.active, "revision": flow.revision,
            "priority": int(current.get("priority") or 0), "trigger": current.get("trigger"),
            "draft": flow.draft, "created_at": flow.created_at, "updated_at": flow.updated_at}


async def _flow(d: Deps, org: str, flow_id: str) -> Flow:
    flow = await call(d.app.flow, org, flow_id)
    if flow is None:
        raise not_found("flow")
    return flow


@router.post("", status_code=201, responses=responses(400, 401, 422), openapi_extra=DEFINITION)
async def create(request: Request, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """A new flow (a draft; publish it, then activate it, for it to run)."""
    return flow_view(await d.flows.create(new_id(), who.org, await definition_of(request), who.actor))


@router.post("/validate", responses=responses(400, 401, 422), openapi_extra=DEFINITION)
async def validate(request: Request, org: str = Depends(org_of)):
    """The same checks as saving, without saving: `{"valid": true}` or the 422 listing every problem."""
    await definition_of(request)
    return {"valid": True}


@router.api_route("/validate", methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False)
async def validate_other_methods():
    """`validate` is not a flow id: only POST is served there."""
    raise ApiError(405, "method_not_allowed", "method not allowed; allowed: POST", headers={"Allow": "POST"})


@router.get("", responses=responses(401, 422))
async def list_flows(org: str = Depends(org_of), d: Deps = Depends(deps), limit: int = Query(50, ge=1, le=200),
                     cursor: UuidCursor = None):
    items = await d.store.page(org, cursor, limit)
    return {"items": [_listed(row) for row in items],
            "next_cursor": items[-1]["flow_id"] if len(items) == limit else None}


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["flow_id"], "name": row["name"], "active": row["active"], "revision": row["revision"],
            "priority": row["priority"], "trigger": row["trigger"], "created_at": row["created_at"],
            "updated_at": row["updated_at"]}


@router.get("/{flow_id}", responses=responses(401, 404, 422))
async def get(flow_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return flow_view(await _flow(d, org, flow_id))


@router.put("/{flow_id}", responses=responses(400, 401, 404, 422), openapi_extra=DEFINITION)
async def replace(flow_id: ResourceId, request: Request, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Replace the draft with a whole definition (published revisions never change)."""
    await _flow(d, who.org, flow_id)
    flow = await d.flows.replace(who.org, flow_id, await definition_of(request), who.actor)
    if flow is None:
        raise not_found("flow")
    return flow_view(flow)


@router.delete("/{flow_id}", status_code=204, responses=responses(401, 404, 422))
async def delete(flow_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """The flow and its running executions (cancelled); its history stays in the events."""
    await _flow(d, who.org, flow_id)
    if not await d.flows.delete(who.org, flow_id, who.actor):
        raise not_found("flow")
    return Response(status_code=204)


@router.post("/{flow_id}/publish", responses=responses(401, 404, 422))
async def publish(flow_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """The draft becomes revision N (immutable): `{"revision": N}`. Running executions keep theirs."""
    await _flow(d, who.org, flow_id)
    try:
        published = await d.flows.publish(who.org, flow_id, who.actor)
    except DefinitionInvalid as exc:
        raise invalid(exc) from exc
    if published is None:
        raise not_found("flow")
    return {"revision": published[1]}


@router.post("/{flow_id}/activate", responses=responses(401, 404, 409, 422))
async def activate(flow_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Start executions on the newest published revision (409 before the first publish)."""
    return flow_view(await _act(d, who, flow_id, d.flows.activate))


@router.post("/{flow_id}/deactivate", responses=responses(401, 404, 422))
async def deactivate(flow_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Start no more executions (running ones go on to their end)."""
    return flow_view(await _act(d, who, flow_id, d.flows.deactivate))


async def _act(d: Deps, who: Caller, flow_id: str, act) -> Flow:
    await _flow(d, who.org, flow_id)
    try:
        flow = await act(who.org, flow_id, who.actor)
    except FlowStateError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    if flow is None:
        raise not_found("flow")
    return flow


@router.get("/{flow_id}/revisions", responses=responses(401, 404, 422))
async def revisions(flow_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    await _flow(d, org, flow_id)
    rows = await d.store.revisions(org, flow_id)
    return {"items": [{"revision": r["revision"], "published_at": r["published_at"], "definition": r["definition"]}
                      for r in rows]}
