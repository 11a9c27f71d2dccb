"""`/v1/flows…`, `/v1/executions…` and `/v1/auto-replies…` belong to the flows service: the gateway
authenticates the API key and forwards the request (`forward.py`). An API start of an execution names
its sender, checked against the senders read model first (an unknown one is a 404, as for a send)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .deps import Deps, Principal, current_principal, deps
from .forward import parsed_json
from .pools import check_senders

router = APIRouter(tags=["flows"])
DEFINITION_PATHS = ("/v1/flows", "/v1/flows/validate")


def streams_definition(scope) -> bool:
    """A flow definition (2,000 nodes may pass the gateway's body limit): streamed through to the flows
    service, which bounds it by its own limit (and refuses NUL) as it reads it."""
    path, method = scope.get("path", ""), scope.get("method")
    return (method == "POST" and path in DEFINITION_PATHS) or (
        method == "PUT" and path.startswith("/v1/flows/") and path.count("/") == 3)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.post("/v1/flows/{flow_id}/executions", include_in_schema=False)
async def start_execution(request: Request, principal: Principal = Depends(current_principal),
                          d: Deps = Depends(deps)):
    body = await request.body()  # bounded by the body limit
    await check_senders(parsed_json(body), principal.org.id, d.queries)
    return await d.flows.forward(request, principal, body)


@router.api_route("/v1/flows", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/flows/{rest:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/executions/{rest:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/auto-replies", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/auto-replies/{rest:path}", methods=METHODS, include_in_schema=False)
async def flows(request: Request, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    return await d.flows.forward(request, principal)
