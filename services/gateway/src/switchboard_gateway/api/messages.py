"""`/v1/messages` and the simulator's inbound messages."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Header

from switchboard_contracts import commands
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import deterministic_id, new_id

from ..orgs import Organization
from .deps import Deps, current_org, deps
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.phone import to_e164
from .pools import senders_of
from .schemas import SendMessageRequest, SimulateInboundRequest
from switchboard_runtime.http.openapi import responses

router = APIRouter(tags=["messages"])
SOURCE = "switchboard/gateway"


@router.post("/v1/messages", status_code=202)
async def send_message(body: SendMessageRequest, org: Organization = Depends(current_org),
                       d: Deps = Depends(deps), idempotency_key: str | None = Header(default=None)):
    to = to_e164(body.to, "to", d.settings.default_region)
    sender_id, pool = await senders_of(body, org.id, d.queries)
    message_id = deterministic_id(org.id, "message", idempotency_key) if idempotency_key else new_id()
    cmd = commands.SendMessage(message_id=message_id, sender_id=sender_id, pool=pool, to=to, type=body.type,
                               text=body.text, template=body.template, media=body.media,
                               interactive=body.interactive, reply_to=body.reply_to,
                               client_ref=body.client_ref, requested_at=datetime.now(UTC),
                               ttl_seconds=body.ttl_seconds)
    await d.send_command(make_envelope(id=message_id, source=SOURCE, type=commands.SEND_MESSAGE,
                                       orgid=org.id, data=cmd, subject=message_id))
    return {"id": message_id, "status": "queued"}


@router.get("/v1/messages/{message_id}")
async def get_message(message_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps)):
    found = await d.queries.message(org.id, message_id)
    if found is None:
        raise not_found("message")
    return found


@router.post("/v1/senders/{sender_id}/simulate/inbound", status_code=202, tags=["simulator"],
             responses=responses(400, 401, 404, 409, 422, 503))
async def simulate_inbound(sender_id: str, body: SimulateInboundRequest,
                           org: Organization = Depends(current_org), d: Deps = Depends(deps),
                           idempotency_key: str | None = Header(default=None)):
    sender = await d.queries.sender(org.id, sender_id)
    if sender is None:
        raise not_found("sender")
    if sender["provider"] != "simulator":
        raise ApiError(409, "conflict", "only simulator senders can simulate inbound messages")
    request_id = deterministic_id(org.id, "inbound", idempotency_key) if idempotency_key else new_id()
    cmd = commands.SimulateInbound(request_id=request_id, sender_id=sender_id,
                                   **{"from": to_e164(body.from_, "from", d.settings.default_region)},
                                   text=body.text, contact_name=body.contact_name)
    await d.send_command(make_envelope(id=request_id, source=SOURCE, type=commands.SIMULATE_INBOUND,
                                       orgid=org.id, data=cmd, subject=sender_id))
    return {"request_id": request_id}
