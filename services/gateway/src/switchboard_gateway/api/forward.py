"""Forwarding to the services that own what a request is about (campaigns, conversations): the gateway
has authenticated the API key; it passes the request on with the caller (organization, acting user or
key, role: `Caller.headers()`) and an internal token — body and answer streamed, so a large upload or
download never sits in the gateway's memory. A service that cannot be reached (or does not answer in
time) is a 503 with `Retry-After`, never a hang or a 500."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from switchboard_runtime.http.errors import error_body
from switchboard_runtime.http.internal_auth import TOKEN_HEADER, internal_token
from switchboard_runtime.telemetry import current_traceparent, tracer

if TYPE_CHECKING:
    from .deps import Principal  # deps imports this module

PASSED = ("content-type", "accept", "idempotency-key", "x-correlation-id")
KEPT = ("content-type", "content-disposition", "retry-after", "allow")
SAFE_PATH = "/!$&'()*+,;=:@-._~"  # what a path keeps unescaped (RFC 3986 pchar and "/")
RETRY_AFTER_SECONDS = 2


class Upstream:
    """One service behind the gateway."""

    def __init__(self, name: str, base_url: str, secret_key: str, timeout: float):
        self.name = name
        self.token = internal_token(secret_key)
        self.http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout, connect=5.0))

    async def close(self) -> None:
        await self.http.aclose()

    async def forward(self, request: Request, principal: Principal, body: bytes | None = None):
        """The service's answer to this request (`body`: already read; else the request's, streamed),
        on behalf of `principal` (its organization, actor and role travel as internal headers)."""
        headers = {k: v for k, v in request.headers.items() if k in PASSED}
        headers.update(principal.caller.headers())
        headers[TOKEN_HEADER] = self.token
        org_id = principal.org.id
        if request.headers.get("content-length", "").isdigit():  # forwarded chunked: the size, for progress
            headers["x-upload-length"] = request.headers["content-length"]
        if body is None and request.method in ("POST", "PUT", "PATCH"):
            body = request.stream()
        with tracer("switchboard.gateway").start_as_current_span(
                f"{request.method} {self.name}", attributes={"switchboard.orgid": org_id}):
            if traceparent := current_traceparent():
                headers["traceparent"] = traceparent  # the service puts it on the commands it causes
            # the path as received (scope), not `request.url.path`: parsing a URL drops a CR, LF or tab from it
            upstream = self.http.build_request(request.method, quote(request.scope["path"], safe=SAFE_PATH),
                                               params=request.query_params,
                                               headers=headers, content=body)
            try:
                response = await self.http.send(upstream, stream=True)
            except httpx.HTTPError:
                return unavailable(self.name)
        kept = {k: v for k, v in response.headers.items() if k in KEPT}
        return StreamingResponse(response.aiter_raw(), status_code=response.status_code, headers=kept,
                                 background=BackgroundTask(response.aclose))


def unavailable(name: str) -> JSONResponse:
    body = error_body("unavailable", f"the {name} service is not available; retry later")
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def parsed_json(raw: bytes):
    """The body as JSON, or None when it is not (the service answers that with its own error)."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
