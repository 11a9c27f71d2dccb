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
from .schemas import CreateSender, split_config

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
    deadline = asyncio.get_running_loop().time() + d.settings.command_wait_seconds
    while True:  # answer with the sender once the session-pool has registered it
        sender = await d.queries.sender(org.id, sender_id)
        if sender is not None and sender["provider"]:
            return sender
        if asyncio.get_running_loop().time() > deadline:
            raise ApiError(503, "not_ready", "the sender was not registered in time; retry with the "
                           "same Idempotency-Key", {"sender_id": sender_id})
        await asyncio.sleep(0.05)


@router.get("")
async def list_senders(org: Organization = Depends(current_org), d: Deps = Depends(deps),
                       page: Page = Depends()):
    return await paged(d.queries.senders, org.id, page=page)


@router.get("/{sender_id}")
async def get_sender(sender_id: str, org: Organization = Depends(current_org), d: Deps = Depends(deps)):
    sender = await d.queries.sender(org.id, sender_id)
    if sender is None:
        raise not_found("sender")
    return sender
