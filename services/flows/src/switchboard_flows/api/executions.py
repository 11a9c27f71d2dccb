"""Executions: start one by API (`POST /v1/flows/{id}/executions`, its parameters are
`{{flow.data.*}}`), list a flow's by status, read one with its steps, cancel one."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query

from switchboard_contracts.ids import deterministic_id, new_id
from switchboard_runtime.eventstore import call
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.phone import to_e164

from ..domain.execution import Execution
from ..domain.inputs import Cancel
from ..engine import Start
from .deps import Deps, caller, deps, org_of
from .schemas import ResourceId, StartExecution, UuidCursor

router = APIRouter(tags=["flows"])
Status = Literal["running", "waiting", "completed", "failed", "cancelled"]


def execution_view(ex: Execution) -> dict[str, Any]:
    waiting = ex.waiting or {}
    return {"id": str(ex.id), "flow_id": ex.flow_id, "revision": ex.revision,
            "contact": {"phone": ex.contact, "name": ex.contact_name}, "sender_id": ex.sender_id,
            "status": ex.status, "node": ex.node if ex.active else None,
            "waiting": {"for": waiting["for"], "until": waiting.get("until"), "node": ex.node} if waiting else None,
            "reason": ex.reason, "variables": ex.vars, "started_at": ex.started_at, "ended_at": ex.ended_at,
            "steps": [{k: s.get(k) for k in ("node", "type", "exit", "at", "duration_ms", "detail")}
                      for s in ex.steps]}


async def _execution(d: Deps, org: str, execution_id: str) -> Execution:
    ex = await call(d.app.execution, execution_id)
    if ex is None or ex.org_id != org:
        raise not_found("execution")
    return ex


@router.post("/v1/flows/{flow_id}/executions", status_code=201, responses=responses(400, 401, 404, 409, 422))
async def start(flow_id: ResourceId, body: StartExecution, who: Caller = Depends(caller), d: Deps = Depends(deps),
                idempotency_key: str | None = Header(default=None, max_length=200)):
    """Start the flow for a contact through a sender (an active flow; 409 otherwise). With an
    Idempotency-Key, a repeated request starts nothing new. While an execution of this flow is
    active for the contact, that one is answered (`started: false`)."""
    org = who.org
    flow = await call(d.app.flow, org, flow_id)
    if flow is None:
        raise not_found("flow")
    if not flow.active or flow.revision is None:
        raise ApiError(409, "conflict", "the flow is not active (publish and activate it first)")
    to = to_e164(body.to, "to", d.settings.default_region)
    event_id = deterministic_id(org, "flow-api-start", idempotency_key) if idempotency_key else new_id()
    execution_id, started = await d.engine.start(Start(
        org_id=org, flow_id=flow_id, revision=flow.revision, contact=to, contact_name=None,
        sender_id=body.sender_id, trigger={"type": "api", "event_id": event_id}, data=body.parameters,
        actor=who.actor))
    return {**execution_view(await _execution(d, org, execution_id)), "started": started}


@router.get("/v1/flows/{flow_id}/executions", responses=responses(401, 404, 422))
async def list_executions(flow_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps),
                          status: Status | None = None, limit: int = Query(50, ge=1, le=200),
                          cursor: UuidCursor = None):
    if await call(d.app.flow, org, flow_id) is None:
        raise not_found("flow")
    rows = await d.index.page(org, flow_id, status, cursor, limit)
    items = [{"id": r["execution_id"], "flow_id": r["flow_id"], "revision": r["revision"],
              "contact": {"phone": r["contact"]}, "sender_id": r["sender_id"], "status": r["status"],
              "node": r["node"], "waiting_for": r["waiting_for"], "waiting_until": r["waiting_until"],
              "steps": r["steps"], "reason": r["reason"], "started_at": r["started_at"],
              "ended_at": r["ended_at"]} for r in rows]
    return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


@router.get("/v1/executions/{execution_id}", responses=responses(401, 404, 422))
async def get(execution_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return execution_view(await _execution(d, org, execution_id))


@router.post("/v1/executions/{execution_id}/cancel", responses=responses(401, 404, 409, 422))
async def cancel(execution_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """End a running or waiting execution now (409 once it has ended)."""
    ex = await _execution(d, who.org, execution_id)
    if not ex.active:
        raise ApiError(409, "conflict", f"the execution has ended ({ex.status})")
    ex = await d.engine.deliver(execution_id, Cancel("cancelled through the API", who.actor))
    return execution_view(ex)
