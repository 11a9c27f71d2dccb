"""`/v1/blocklist`: numbers no campaign of the organization sends to."""

from __future__ import annotations

from datetime import UTC, datetime

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from switchboard_contracts.blocklist import ADDED, REMOVED, BlocklistChanged
from switchboard_contracts.ids import new_id

from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses

from ..domain.phones import InvalidPhone, normalize
from ..optouts import blocklist_event
from .deps import Deps, caller, deps, org_of
from .schemas import PHONE, BlockIn

router = APIRouter(prefix="/v1/blocklist", tags=["blocklist"])


def _phone(d: Deps, raw: str) -> str:
    try:
        return normalize(raw, d.settings.default_region)
    except InvalidPhone as exc:
        raise ApiError(422, "validation_error", f"phone: {exc}", {"field": "phone"}) from exc


@router.get("", responses=responses(401, 422))
async def list_blocked(org: str = Depends(org_of), d: Deps = Depends(deps),
                       limit: int = Query(100, ge=1, le=1000), cursor: str | None = Query(None, max_length=32)):
    items = await d.blocklist.page(org, cursor or "", limit)
    return {"items": items, "next_cursor": items[-1]["phone"] if len(items) == limit else None}


@router.post("", status_code=201, responses=responses(400, 401, 422))
async def block(body: BlockIn, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    org = who.org
    phone = _phone(d, body.phone)
    created = await d.blocklist.add(org, phone, body.reason, "api")
    if created:
        data = BlocklistChanged(phone=phone, reason=body.reason, source="api", at=datetime.now(UTC),
                                actor=who.actor)
        await d.publisher.publish(blocklist_event(org, ADDED, data, new_id()))
    return {"phone": phone, "reason": body.reason, "created": created}


@router.delete("/{phone}", status_code=204, responses=responses(401, 404, 422))
async def unblock(phone: Annotated[str, Path(json_schema_extra=PHONE)], who: Caller = Depends(caller),
                  d: Deps = Depends(deps)):
    org = who.org
    number = _phone(d, phone)
    if not await d.blocklist.remove(org, number):
        raise not_found("blocked number")
    data = BlocklistChanged(phone=number, source="api", at=datetime.now(UTC), actor=who.actor)
    await d.publisher.publish(blocklist_event(org, REMOVED, data, new_id()))
    return Response(status_code=204)
