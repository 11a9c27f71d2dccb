"""`/v1/senders`: register, change, connect, pause, remove (commands to the session-pool, answered
once the read model shows their effect) and read."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Header, Query, Response

from switchboard_contracts import commands
from switchboard_contracts.actor import Actor
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import deterministic_id, new_id

from ..orgs import Organization
from .deps import Deps, current_actor, current_org, deps
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged
from .schemas import CreateSender, PauseRequest, UpdateSenderRequest, split_config

router = APIRouter(prefix="/v1/senders", tags=["senders"])
SOURCE = "switchboard/gateway"


@router.post("", status_code=201, responses=responses(400, 401, 409, 422, 503))
async def create_sender(body: CreateSender, org: Organization = Depends(current_org),
                        d: Deps = Depends(deps), idempotency_key: str | None = Header(default=None),
                        actor: Actor = Depends(current_actor)):
    sender_id = deterministic_id(org.id, "sender", idempotency_key) if idempotency_key else new_id()
    plain, secret = split_config(getattr(body, "config", None))
    account = plain.get("phone_number_id") or plain.get("session")
    if account:  # one Meta number / WAHA session belongs to one sender, across all organizations
        owner = await d.queries.sender_owning(body.provider, account)
        if owner is not None and owner != sender_id:
            field = "phone_number_id" if body.provider == "meta-cloud" else "session"
            raise ApiError(409, "conflict", f"another sender already uses this {field}", {"field": field})
    cmd = commands.RegisterSender(sender_id=sender_id, name=body.name, provider=body.provider,
                                  quotas=body.quotas, config=plain, labels=body.labels,
                                  sealed_credentials=d.sealer.seal(secret) if secret else None, actor=actor)
    await d.send_command(make_envelope(id=deterministic_id("register", sender_id), source=SOURCE,
                                       type=commands.REGISTER_SENDER, orgid=org.id, data=cmd,
                                       subject=sender_id))
    return await _once(d, org, sender_id, lambda s: bool(s["provider"]),
                       "the sender was not registered in time; retry with the same Idempotency-Key")


async def _once(d: Deps, org: Organization, sender_id: str, done, message: str) -> dict:
    """The sender as soon as the read model shows the command's effect (503 if it does not in time)."""
    deadline = asyncio.get_running_loop().time() + d.settings.command_wait_seconds
    while True:
        sender = await d.queries.sender(org.id, sender_id)
        if sender is not None and done(sender):
            return sender
        if asyncio.get_running_loop().time() > deadline:
            raise ApiError(503, "not_ready", message, {"sender_id": sender_id})
        await asyncio.sleep(0.05)


async def _existing(d: Deps, org: Organization, sender_id: str) -> dict:
    sender = await d.queries.sender(org.id, sender_id)
    if sender is None:
        raise not_found("sender")
    return sender


@router.post("/{sender_id}/pause", responses=responses(400, 401, 404, 422, 503))
async def pause_sender(sender_id: str, body: PauseRequest | None = None, org: Organization = Depends(current_org),
                       d: Deps = Depends(deps), actor: Actor = Depends(current_actor)):
    """Stop sending through the sender; its messages wait (until resumed, or their time-to-live)."""
    await _existing(d, org, sender_id)
    cmd = commands.PauseSender(sender_id=sender_id, reason=(body or PauseRequest()).reason, actor=actor)
    await d.send_command(make_envelope(id=new_id(), source=SOURCE, type=commands.PAUSE_SENDER, orgid=org.id,
                                       data=cmd, subject=sender_id))
    return await _once(d, org, sender_id, lambda s: s["paused"] is not None, "the sender was not paused in time")


@router.post("/{sender_id}/resume", responses=responses(401, 404, 422, 503))
async def resume_sender(sender_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps),
                        actor: Actor = Depends(current_actor)):
    await _existing(d, org, sender_id)
    await d.send_command(make_envelope(id=new_id(), source=SOURCE, type=commands.RESUME_SENDER, orgid=org.id,
                                       data=commands.ResumeSender(sender_id=sender_id, actor=actor), subject=sender_id))
    return await _once(d, org, sender_id, lambda s: s["paused"] is None, "the sender was not resumed in time")


@router.get("", responses=responses(400, 401, 422))
async def list_senders(org: Organization = Depends(current_org), d: Deps = Depends(deps),
                       page: Page = Depends(), label: str | None = Query(None, max_length=64)):
    return await paged(lambda *a: d.queries.senders(*a, label=label), org.id, page=page)


@router.patch("/{sender_id}", responses=responses(400, 401, 404, 422, 503))
async def update_sender(sender_id: str, body: UpdateSenderRequest, org: Organization = Depends(current_org),
                        d: Deps = Depends(deps), actor: Actor = Depends(current_actor)):
    """Change the name, quotas (and warm-up) or labels; fields left out stay as they are."""
    await _existing(d, org, sender_id)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ApiError(422, "validation_error", "nothing to change: give name, quotas or labels",
                       {"fields": ["name", "quotas", "labels"]})
    cmd = commands.UpdateSender(sender_id=sender_id, **{k: getattr(body, k) for k in changes}, actor=actor)
    await d.send_command(make_envelope(id=new_id(), source=SOURCE, type=commands.UPDATE_SENDER, orgid=org.id,
                                       data=cmd, subject=sender_id))
    wanted = {k: (v.model_dump() if hasattr(v, "model_dump") else v) for k, v in
              (("name", cmd.name), ("quotas", cmd.quotas), ("labels", cmd.labels)) if k in changes}
    return await _once(d, org, sender_id, lambda s: all(s[k] == v for k, v in wanted.items()),
                       "the change was not applied in time")


@router.delete("/{sender_id}", status_code=204, responses=responses(401, 404, 422, 503))
async def remove_sender(sender_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps),
                        actor: Actor = Depends(current_actor)):
    """Remove the sender: it sends nothing more (its waiting messages expire) and its provider session
    is stopped. Its history stays in the event stream."""
    await _existing(d, org, sender_id)
    await d.send_command(make_envelope(id=new_id(), source=SOURCE, type=commands.REMOVE_SENDER, orgid=org.id,
                                       data=commands.RemoveSender(sender_id=sender_id, actor=actor), subject=sender_id))
    deadline = asyncio.get_running_loop().time() + d.settings.command_wait_seconds
    while (await d.queries.sender(org.id, sender_id, removed=True) or {}).get("status") != "removed":
        if asyncio.get_running_loop().time() > deadline:
            raise ApiError(503, "not_ready", "the sender was not removed in time", {"sender_id": sender_id})
        await asyncio.sleep(0.05)
    return Response(status_code=204)


@router.post("/{sender_id}/connect", status_code=202, responses=responses(401, 404, 422, 503))
async def connect_sender(sender_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps),
                         actor: Actor = Depends(current_actor)):
    """Connect now: a Meta number's credentials are checked; a WAHA session is started (then its QR
    is at `GET /v1/senders/{id}/qr`). The answer is the sender as it is; follow `status`."""
    sender = await _existing(d, org, sender_id)
    await d.send_command(make_envelope(id=new_id(), source=SOURCE, type=commands.CONNECT_SENDER, orgid=org.id,
                                       data=commands.ConnectSender(sender_id=sender_id, actor=actor), subject=sender_id))
    return sender


@router.get("/{sender_id}", responses=responses(401, 404, 422))
async def get_sender(sender_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps)):
    return await _existing(d, org, sender_id)
