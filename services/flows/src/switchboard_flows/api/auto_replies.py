"""`/v1/auto-replies`: rules that answer inbound messages no flow took (create 201, read, list,
change any of their fields with PATCH, delete 204)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from switchboard_contracts.ids import new_id
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.openapi import json_body, responses

from ..domain.auto_reply import AutoReplyRule
from .deps import Deps, deps, org_of
from .schemas import ResourceId, UuidCursor

router = APIRouter(prefix="/v1/auto-replies", tags=["auto-replies"])


def checked(body: object) -> dict:
    try:
        return AutoReplyRule.model_validate(body).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        fields = [{"field": ".".join(str(p) for p in e["loc"]) or "body",
                   "message": e["msg"].removeprefix("Value error, "), "type": e["type"]} for e in exc.errors()]
        names = ", ".join(sorted({f["field"] for f in fields}))
        raise ApiError(422, "validation_error", f"invalid fields: {names}", {"fields": fields}) from exc


async def _json(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from exc


@router.post("", status_code=201, responses=responses(400, 401, 422), openapi_extra=json_body(AutoReplyRule))
async def create(request: Request, org: str = Depends(org_of), d: Deps = Depends(deps)):
    rule = await d.auto_replies.store.create(new_id(), org, checked(await _json(request)), datetime.now(UTC))
    d.auto_replies.changed(org)
    return rule


@router.get("", responses=responses(401, 422))
async def list_rules(org: str = Depends(org_of), d: Deps = Depends(deps), limit: int = Query(50, ge=1, le=200),
                     cursor: UuidCursor = None):
    items = await d.auto_replies.store.page(org, cursor, limit)
    return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


@router.get("/{rule_id}", responses=responses(401, 404, 422))
async def get(rule_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    rule = await d.auto_replies.store.get(rule_id, org)
    if rule is None:
        raise not_found("auto-reply")
    return rule


@router.patch("/{rule_id}", responses=responses(400, 401, 404, 422),
              openapi_extra=json_body(AutoReplyRule, partial=True))
async def change(rule_id: ResourceId, request: Request, org: str = Depends(org_of), d: Deps = Depends(deps)):
    """The fields given replace the rule's."""
    rule = await d.auto_replies.store.get(rule_id, org)
    if rule is None:
        raise not_found("auto-reply")
    changes = await _json(request)
    if not isinstance(changes, dict) or not changes:
        raise ApiError(422, "validation_error", "give the fields to change")
    current = {k: v for k, v in rule.items() if k not in ("id", "created_at", "updated_at")}
    changed = await d.auto_replies.store.update(rule_id, org, checked({**current, **changes}), datetime.now(UTC))
    if changed is None:
        raise not_found("auto-reply")
    d.auto_replies.changed(org)
    return changed


@router.delete("/{rule_id}", status_code=204, responses=responses(401, 404, 422))
async def delete(rule_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    if not await d.auto_replies.store.delete(rule_id, org):
        raise not_found("auto-reply")
    d.auto_replies.changed(org)
    return Response(status_code=204)
