"""`POST /v1/conversations/{id}/messages`: an agent's reply — any content `POST /v1/messages` takes, or
a canned response — sent from the conversation's sender to its contact and recorded with the agent
(`agent_id`). It ends the contact's wait (`waiting_since`) and reopens a resolved or archived
conversation. A Meta sender may send free-form messages only within 24 hours of the contact's last
message: outside that window a reply that is not a template is a 422 `outside_window`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Request

from switchboard_contracts import commands
from switchboard_contracts.content import Media
from switchboard_contracts.ids import deterministic_id, new_id
from switchboard_contracts.sender import Provider
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses

from ..canned import render
from .app import Deps, caller, deps
from .inbox import invalid
from .inbox_schemas import CannedReply
from .messages import KEY, _idempotency, no_nulls
from .schemas import TextBody, reply_request

router = APIRouter(tags=["inbox"])
WINDOW = timedelta(hours=24)
ReplyRequest = reply_request(CannedReply)


def outside_window(provider: str | None, last_inbound_at: datetime | None, type_: str, now: datetime) -> bool:
    return (provider == Provider.META_CLOUD and type_ != "template"
            and (last_inbound_at is None or now - last_inbound_at > WINDOW))


@router.post("/v1/conversations/{conversation_id:uuid}/messages", status_code=202,
             dependencies=[Depends(no_nulls)],
             responses=responses(400, 401, 404, 409, 413, 422, 503,
                                 s409="The Idempotency-Key was used with another body"))
async def reply(conversation_id: UUID, request: Request, body: Annotated[ReplyRequest, Body()],
                who: Caller = Depends(caller), d: Deps = Depends(deps), idempotency_key: str | None = KEY):
    """202 with the message as `GET /v1/messages/{id}` shows it (`queued`, with `agent_id`)."""
    cid = str(conversation_id)
    conv = await d.conversations.one(who.org, cid, who.actor_id)
    if conv is None:
        raise not_found("conversation")
    content = body
    if isinstance(body, CannedReply):
        canned = await d.canned.by_code(who.org, body.canned)
        if canned is None:
            raise invalid("canned", f"no canned response with short_code {body.canned!r}")
        content = TextBody(text=render(canned["content"], conv["contact"], conv["contact_name"]))
    now = datetime.now(UTC)
    provider = await d.directory.provider(who.org, conv["sender_id"])
    if outside_window(provider, conv["last_inbound_at"], content.type, now):
        raise ApiError(422, "outside_window", "the contact last wrote more than 24 hours ago (or never): outside "
                       "Meta's customer service window only an approved template may be sent",
                       {"field": "type", "last_inbound_at": conv["last_inbound_at"] and conv["last_inbound_at"].isoformat()})
    prepared = await d.template_sends.prepare(who.org, conv["sender_id"], getattr(content, "template", None))
    if conv["status"] in ("resolved", "archived"):
        await d.lifecycle.change(who.org, cid, lambda c: c.replied(who.actor, now))
    message_id = deterministic_id(who.org, "reply", cid, idempotency_key) if idempotency_key else new_id()
    media = getattr(content, "media", None)
    cmd = commands.SendMessage(
        message_id=message_id, sender_id=conv["sender_id"], to=conv["contact"], type=content.type,
        text=getattr(content, "text", ""),
        template=prepared.template if prepared else getattr(content, "template", None),
        rendered=prepared.rendered if prepared else None,
        media=Media.model_validate(media.model_dump(exclude_none=True)) if media is not None else None,
        interactive=getattr(content, "interactive", None), reply_to=getattr(content, "reply_to", None),
        requested_at=now, ttl_seconds=getattr(content, "ttl_seconds", None), actor=who.actor)
    answer = {"id": message_id}
    await d.sends.send(who.org, [cmd], answer, _idempotency(idempotency_key, f"reply:{cid}", body),
                       request.headers.get("traceparent"), agent_id=who.actor_id)
    return await d.queries.message(who.org, message_id)
