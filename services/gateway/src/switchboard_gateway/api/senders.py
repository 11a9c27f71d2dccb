"""`/v1/senders`: register (via the session-pool) and read."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Header

from switchboard_contracts import commands
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import deterministic_id, new_id

from ..orgs import Organization
from .deps import Deps, current_org, deps
from switchboard_runtime.http.errors import ApiError, not_found
from .pagination import Page, paged
from .schemas import CreateSender, PauseRequest, split_config

router = APIRouter(prefix="/v1/senders", tags=["senders"])
SOURCE = "switchboard/gateway"


@router.post("", status_code=201)
async def create_sender(body: CreateSender, org: Organization = Depends(current_org),
                        d: Deps = Depends(deps), idempotency_key: str | None = Header(default=None)):
    sender_id = deterministic_id(org.id, "sender", idempotency_key) if idempotency_key else new_id()
    plain, secret = split_config(getattr(body, "config", None))
    account = plain.get("phone_number_id") or plain.get("session")
    if account:  # one Meta number / WAHA session belongs to one sender, across all organizations
        owner = await d.queries.sender_owning(body.provider, account)
        if owner is not None and owner != sender_id:
            field = "phone_number_id" if body.provider == "meta-cloud" else "session"
            raise ApiError(409, "conflict", f"another sender already uses this {field}", {"field": field})
    cmd = commands.RegisterSender(sender_id=sender_id, name=body.name, provider=body.provider,
                                  quotas=body.quotas, config=plain,
                                  sealed_credentials=d.sealer.seal(secret) if secret else None)
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


@router.post("/{sender_id}/pause")
async def pause_sender(sender_id: str, body: PauseRequest | None = None, org: Organization = Depends(current_org),
                       d: Deps = Depends(deps)):
    """Stop sending through the sender; its messages wait (until resumed, or their time-to-live)."""
    await _existing(d, org, sender_id)
    cmd = commands.PauseSender(sender_id=sender_id, reason=(body or PauseRequest()).reason)
    await d.send_command(make_envelope(id=new_id(), source=SOURCE, type=commands.PAUSE_SENDER, orgid=org.id,
                                       data=cmd, subject=sender_id))
    return await _once(d, org, sender_id, lambda s: s["paused"] is not None, "the sender was not paused in time")


@router.post("/{sender_id}/resume")
async def resume_sender(sender_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps)):
    await _existing(d, org, sender_id)
    await d.send_command(make_envelope(id=new_id(), source=SOURCE, type=commands.RESUME_SENDER, orgid=org.id,
                                       data=commands.ResumeSender(sender_id=sender_id), subject=sender_id))
    return await _once(d, org, sender_id, lambda s: s["paused"] is None, "the sender was not resumed in time")


@router.get("")
async def list_senders(org: Organization = Depends(current_org), d: Deps = Depends(deps),
                       page: Page = Depends()):
    return await paged(d.queries.senders, org.id, page=page)


@router.get("/{sender_id}")
async def get_sender(sender_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps)):
    return await _existing(d, org, sender_id)
