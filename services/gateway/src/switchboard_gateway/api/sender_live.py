"""What the session-pool answers live about a sender (request/reply, not a read model): the pairing
QR (raw, or PNG with `Accept: image/png`), a pairing code, and stats. And the simulator's faults."""

from __future__ import annotations

import io

import nats.errors
import segno
from fastapi import APIRouter, Depends, Request, Response

from switchboard_contracts import commands, sender_rpc
from switchboard_contracts.actor import Actor
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.openapi import responses

from ..orgs import Organization
from .deps import Deps, current_actor, current_org, deps
from switchboard_runtime.http.phone import to_e164
from .schemas import PairingCodeRequest, SimulateSenderRequest

router = APIRouter(prefix="/v1/senders", tags=["senders"])
SOURCE = "switchboard/gateway"
# what the session-pool's answers add: 400, 404, 409 (not that kind of sender, already connected), 422,
# 502 (the provider failed), 503 (it did not answer)
RPC = (400, 401, 404, 409, 422, 502, 503)
QR_PNG = {200: {"description": "The QR: JSON, or the image with `Accept: image/png`",
                "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}}
RPC_TIMEOUT = 20.0  # the session-pool may wait on the provider (its own timeout is 15 s)


async def _sender(d: Deps, org: Organization, sender_id: str) -> dict:
    sender = await d.queries.sender(org.id, sender_id)
    if sender is None:
        raise not_found("sender")
    return sender


async def _ask(d: Deps, subject: str, request: sender_rpc.SenderRequest) -> dict:
    try:
        msg = await d.bus.nc.request(subject, request.model_dump_json().encode(), timeout=RPC_TIMEOUT)
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError, nats.errors.ConnectionClosedError) as exc:
        raise ApiError(503, "unavailable", "the session-pool did not answer; retry later") from exc
    reply = sender_rpc.SenderReply.model_validate_json(msg.data)
    if not reply.ok:
        raise ApiError(reply.status, reply.code or "error", reply.message or "the session-pool refused")
    return reply.data


@router.get("/{sender_id}/qr", responses={**responses(*RPC), **QR_PNG})
async def pairing_qr(sender_id: str, request: Request, org: Organization = Depends(current_org),
                     d: Deps = Depends(deps)):
    """The QR a WhatsApp Web session waits to have scanned: `{"qr": "<raw>"}`, or the image with
    `Accept: image/png`. 404 when no QR is pending."""
    await _sender(d, org, sender_id)
    data = await _ask(d, sender_rpc.QR, sender_rpc.SenderRequest(org_id=org.id, sender_id=sender_id))
    if "image/png" in request.headers.get("accept", ""):
        out = io.BytesIO()
        segno.make_qr(data["qr"], error="m").save(out, kind="png", scale=8, border=4)
        return Response(out.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"})
    return {"sender_id": sender_id, "qr": data["qr"]}


@router.post("/{sender_id}/pairing-code", responses=responses(*RPC))
async def pairing_code(sender_id: str, body: PairingCodeRequest, org: Organization = Depends(current_org),
                       d: Deps = Depends(deps)):
    """Link a WhatsApp Web session by phone number instead of a QR: the code to type on the phone."""
    await _sender(d, org, sender_id)
    phone = to_e164(body.phone_number, "phone_number", d.settings.default_region)
    data = await _ask(d, sender_rpc.PAIRING_CODE,
                      sender_rpc.SenderRequest(org_id=org.id, sender_id=sender_id, phone_number=phone))
    return {"sender_id": sender_id, "code": data["code"]}


@router.get("/{sender_id}/stats", responses=responses(*RPC))
async def sender_stats(sender_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps)):
    """Sent and failed messages, health, and each quota window's use (used, left, limit)."""
    await _sender(d, org, sender_id)
    data = await _ask(d, sender_rpc.STATS, sender_rpc.SenderRequest(org_id=org.id, sender_id=sender_id))
    return {"sender_id": sender_id, **data}


@router.post("/{sender_id}/simulate", status_code=202, tags=["simulator"],
             responses=responses(400, 401, 404, 409, 422, 503))
async def simulate(sender_id: str, body: SimulateSenderRequest, org: Organization = Depends(current_org),
                   d: Deps = Depends(deps), actor: Actor = Depends(current_actor)):
    """Simulator senders only: make the next sends fail with provider codes, go slow, drop the
    connection, or wait for a QR scan — to test and demonstrate how the platform reacts."""
    sender = await _sender(d, org, sender_id)
    if sender["provider"] != "simulator":
        raise ApiError(409, "conflict", "only simulator senders can be simulated", {"field": "sender_id"})
    if body.scan_qr and body.issue_qr:
        raise ApiError(422, "validation_error", "issue_qr and scan_qr cannot be combined", {"field": "scan_qr"})
    cmd = commands.SimulateSender(sender_id=sender_id, **body.model_dump(), actor=actor)
    await d.send_command(make_envelope(id=new_id(), source=SOURCE, type=commands.SIMULATE_SENDER,
                                       orgid=org.id, data=cmd, subject=sender_id))
    return {"sender_id": sender_id, "accepted": body.model_dump(exclude_defaults=True)}
