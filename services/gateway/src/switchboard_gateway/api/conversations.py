"""`/v1/conversations…`, `/v1/canned-responses…`, `/v1/sla-policies…`, `/v1/stats…`, `/v1/inbox-settings`,
`/v1/templates…`, `/v1/notification-rules…`, `/v1/notifications` and `GET /v1/messages/{id}` belong to the conversations service, which answers them from its own tables: the
gateway authenticates the API key, checks the role (`roles.py`) and forwards every method (`forward.py`);
the service answers a method it does not serve with its own 405."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .deps import Deps, Principal, current_principal, deps

router = APIRouter(tags=["conversations"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
PREFIXES = ("/v1/conversations", "/v1/canned-responses", "/v1/sla-policies", "/v1/stats", "/v1/inbox-settings",
            "/v1/templates", "/v1/notification-rules", "/v1/notifications")


async def conversations(request: Request, principal: Principal = Depends(current_principal),
                        d: Deps = Depends(deps)):
    return await d.conversations.forward(request, principal)


for prefix in PREFIXES:
    router.add_api_route(prefix, conversations, methods=METHODS, include_in_schema=False)
    router.add_api_route(prefix + "/{rest:path}", conversations, methods=METHODS, include_in_schema=False)
# ids are UUIDs (and not "bulk"): POST /v1/messages and /v1/messages/bulk are messages.py's
router.add_api_route("/v1/messages/{message_id:uuid}", conversations, methods=["GET"], include_in_schema=False)
