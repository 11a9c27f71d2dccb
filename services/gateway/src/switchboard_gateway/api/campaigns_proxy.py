"""`/v1/campaigns…`, `/v1/broadcast-lists…` and `/v1/blocklist…` belong to the campaigns service: the gateway authenticates
the API key and forwards the request — body and answer streamed, so a large CSV upload or a results
download never sits in the gateway's memory — with the organization and an internal token."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.internal_auth import ORG_HEADER, TOKEN_HEADER, internal_token

from ..orgs import Organization
from .deps import Deps, current_org, deps

router = APIRouter(tags=["campaigns"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
PASSED = ("content-type", "accept", "idempotency-key", "x-correlation-id")


def streams_upload(scope) -> bool:
    """A CSV contact upload: not held by the body limit (the campaigns service streams it)."""
    path = scope.get("path", "")
    return scope.get("method") == "POST" and path.endswith("/contacts") and (
        path.startswith("/v1/campaigns/") or path.startswith("/v1/broadcast-lists/"))


class CampaignsClient:
    def __init__(self, base_url: str, secret_key: str):
        self.token = internal_token(secret_key)
        self.http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(60.0, connect=5.0))

    async def close(self) -> None:
        await self.http.aclose()


async def _forward(request: Request, org: Organization, d: Deps) -> StreamingResponse:
    client: CampaignsClient = d.campaigns
    headers = {k: v for k, v in request.headers.items() if k in PASSED}
    headers.update({ORG_HEADER: org.id, TOKEN_HEADER: client.token})
    if request.headers.get("content-length", "").isdigit():  # forwarded chunked: the size, for import progress
        headers["x-upload-length"] = request.headers["content-length"]
    has_body = request.method in ("POST", "PUT", "PATCH")
    upstream = client.http.build_request(request.method, request.url.path, params=request.query_params,
                                         headers=headers, content=request.stream() if has_body else None)
    try:
        response = await client.http.send(upstream, stream=True)
    except httpx.HTTPError as exc:
        raise ApiError(503, "unavailable", "the campaigns service is not available; retry later") from exc
    kept = {k: v for k, v in response.headers.items() if k in ("content-type", "content-disposition")}
    return StreamingResponse(response.aiter_raw(), status_code=response.status_code, headers=kept,
                             background=BackgroundTask(response.aclose))


@router.api_route("/v1/campaigns", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/campaigns/{rest:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/broadcast-lists", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/broadcast-lists/{rest:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/blocklist", methods=METHODS, include_in_schema=False)
@router.api_route("/v1/blocklist/{rest:path}", methods=METHODS, include_in_schema=False)
async def campaigns(request: Request, org: Organization = Depends(current_org), d: Deps = Depends(deps)):
    return await _forward(request, org, d)
