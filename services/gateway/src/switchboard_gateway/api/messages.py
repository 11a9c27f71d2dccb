"""`POST /v1/messages` and `/v1/messages/bulk` (sent by the conversations service, which records each
message as `queued` with its command before it answers: the gateway checks the senders the body names
against its senders read model, then forwards), and the simulator's inbound messages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request

from switchboard_contracts import commands
from switchboard_contracts.actor import Actor
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import deterministic_id, new_id
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.phone import to_e164

from ..orgs import Organization
from .deps import Deps, Principal, current_actor, current_org, current_principal, deps
from .forward import parsed_json
from .pools import check_senders
from .schemas import SimulateInboundRequest

router = APIRouter(tags=["messages"])
SOURCE = "switchboard/gateway"


@router.post("/v1/messages", include_in_schema=False)
@router.post("/v1/messages/bulk", include_in_schema=False)
async def send(request: Request, principal: Principal = Depends(current_principal), d: Deps = Depends(deps)):
    body = await request.body()  # bounded by the body limit
    await check_senders(parsed_json(body), principal.org.id, d.queries)
    return await d.conversations.forward(request, principal, body)


@router.post("/v1/senders/{sender_id}/simulate/inbound", status_code=202, tags=["simulator"],
             responses=responses(400, 401, 404, 409, 422, 503))
async def simulate_inbound(sender_id: str, body: SimulateInboundRequest,
                           org: Organization = Depends(current_org), d: Deps = Depends(deps),
                           idempotency_key: str | None = Header(default=None),
                           actor: Actor = Depends(current_actor)):
    sender = await d.queries.sender(org.id, sender_id)
    if sender is None:
        raise not_found("sender")
    if sender["provider"] != "simulator":
        raise ApiError(409, "conflict", "only simulator senders can simulate inbound messages")
    request_id = deterministic_id(org.id, "inbound", idempotency_key) if idempotency_key else new_id()
    cmd = commands.SimulateInbound(request_id=request_id, sender_id=sender_id,
                                   **{"from": to_e164(body.from_, "from", d.settings.default_region)},
                                   text=body.text, contact_name=body.contact_name, reply_id=body.reply_id,
                                   actor=actor)
    await d.send_command(make_envelope(id=request_id, source=SOURCE, type=commands.SIMULATE_INBOUND,
                                       orgid=org.id, data=cmd, subject=sender_id))
    return {"request_id": request_id}
