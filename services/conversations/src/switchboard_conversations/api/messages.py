"""`POST /v1/messages`, `POST /v1/messages/bulk` and `GET /v1/messages/{id}`. A send is recorded as
`queued` with its command in the outbox before the 202 (`sends.py`), so the message can be read at
once. With an Idempotency-Key the message ids derive from it, and a retry gets the first answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Request

from switchboard_contracts import commands
from switchboard_contracts.content import Media
from switchboard_contracts.ids import deterministic_id, new_id
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.phone import to_e164

from ..idempotency import request_hash
from switchboard_contracts.template_send import Prepared
from ..sends import Idempotency
from .app import Deps, deps, org_of
from .routes import route_of
from .schemas import BulkSendRequest, SendMessageRequest, nulls_in

router = APIRouter(tags=["messages"])
KEY = Header(default=None, min_length=1, max_length=255, alias="Idempotency-Key",
             description="the same key and body answer the same; the same key with another body is a 409")


async def no_nulls(request: Request) -> None:
    """Refuse explicit nulls (the document offers none): leave the field out instead."""
    try:
        body = await request.json()
    except ValueError:
        return  # malformed JSON: the body's own validation answers 400
    if paths := nulls_in(body):
        raise ApiError(422, "validation_error", f"invalid fields: {', '.join(paths)}",
                       {"fields": [{"field": p, "message": "null (leave the field out) or a NUL character: "
                                                           "not allowed", "type": "null"} for p in paths]})


def _command(body, message_id: str, to: str, client_ref: str | None, now: datetime,
             prepared: Prepared | None = None) -> commands.SendMessage:
    sender_id, pool = route_of(body)
    media = getattr(body, "media", None)
    return commands.SendMessage(
        message_id=message_id, sender_id=sender_id, pool=pool, to=to, type=body.type,
        text=getattr(body, "text", ""), template=prepared.template if prepared else getattr(body, "template", None),
        rendered=prepared.rendered if prepared else None,
        media=Media.model_validate(media.model_dump(exclude_none=True)) if media is not None else None,
        interactive=getattr(body, "interactive", None), reply_to=body.reply_to, client_ref=client_ref,
        requested_at=now, ttl_seconds=body.ttl_seconds)


def _idempotency(key: str | None, operation: str, body) -> Idempotency | None:
    return Idempotency(key, request_hash(operation, body.model_dump(mode="json", exclude_none=True))) if key else None


SENDS = responses(400, 401, 404, 413, 422, 503, s409="The Idempotency-Key was used with another body, or none "
                                                   "of the pool's senders can send now")


@router.post("/v1/messages", status_code=202, dependencies=[Depends(no_nulls)], responses=SENDS)
async def send_message(request: Request, body: Annotated[SendMessageRequest, Body()], org: str = Depends(org_of),
                       d: Deps = Depends(deps), idempotency_key: str | None = KEY):
    to = to_e164(body.to, "to", d.settings.default_region)
    message_id = deterministic_id(org, "message", idempotency_key) if idempotency_key else new_id()
    prepared = await d.template_sends.prepare(org, route_of(body)[0], getattr(body, "template", None))
    cmd = _command(body, message_id, to, body.client_ref, datetime.now(UTC), prepared)
    return await d.sends.send(org, [cmd], {"id": message_id, "status": "queued"},
                              _idempotency(idempotency_key, "message", body), request.headers.get("traceparent"))


@router.post("/v1/messages/bulk", status_code=202, dependencies=[Depends(no_nulls)], responses=SENDS)
async def send_bulk(request: Request, body: Annotated[BulkSendRequest, Body()], org: str = Depends(org_of),
                    d: Deps = Depends(deps), idempotency_key: str | None = KEY):
    """The same message to up to 10,000 recipients, each with its own message id and result —
    accepted (with the id) or rejected (with the reason)."""
    prepared = await d.template_sends.prepare(org, route_of(body)[0], getattr(body, "template", None))
    now = datetime.now(UTC)
    results, cmds, seen = [], [], set()
    for i, r in enumerate(body.recipients):
        try:
            to = to_e164(r.to, f"recipients.{i}.to", d.settings.default_region)
        except ApiError as exc:
            reason = (exc.details.get("fields") or [{}])[0].get("message") or exc.message
            results.append({"index": i, "to": r.to, "status": "rejected", "reason": reason})
            continue
        if to in seen:
            results.append({"index": i, "to": to, "status": "rejected", "reason": "duplicate recipient"})
            continue
        seen.add(to)
        mid = deterministic_id(org, "bulk", idempotency_key, i) if idempotency_key else new_id()
        cmds.append(_command(body, mid, to, r.client_ref, now, prepared))
        results.append({"index": i, "to": to, "status": "accepted", "id": mid})
    accepted = len(cmds)
    answer = {"accepted": accepted, "rejected": len(results) - accepted, "results": results}
    return await d.sends.send(org, cmds, answer, _idempotency(idempotency_key, "bulk", body),
                              request.headers.get("traceparent"))


@router.get("/v1/messages/{message_id:uuid}", responses=responses(401, 404, 503))
async def get_message(message_id: UUID, org: str = Depends(org_of), d: Deps = Depends(deps)):
    found = await d.queries.message(org, str(message_id))
    if found is None:
        raise not_found("message")
    return found
