"""`/v1/notification-rules` (which ERP event sends which template, through which sender) and `POST
/v1/notifications` (an ERP event over HTTP, decided as one from `erp.evt.<org>.…` is)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Response

from switchboard_contracts.notification import ErpEvent
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged
from switchboard_runtime.http.paths import ResourceId

from .app import Deps, caller, deps
from .notification_schemas import ErpEventBody, EventName, NotificationRuleRequest

rules = APIRouter(prefix="/v1/notification-rules", tags=["notifications"])
router = APIRouter(tags=["notifications"])


async def _checked(body: NotificationRuleRequest, who: Caller, d: Deps) -> dict:
    if body.sender_id is not None and await d.directory.provider(who.org, body.sender_id) is None:
        raise ApiError(404, "not_found", "sender not found", {"field": "sender_id"})
    return body.model_dump(mode="json", exclude_none=True)


@rules.post("", status_code=201, responses=responses(400, 401, 404, 422, 503))
async def create_rule(body: NotificationRuleRequest, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    return await d.notification_rules.create(who.org, await _checked(body, who, d))


@rules.get("", responses=responses(400, 401, 422, 503))
async def list_rules(who: Caller = Depends(caller), d: Deps = Depends(deps), page: Page = Depends(),
                     event: EventName | None = Query(None)):
    return await paged(lambda cursor, limit: d.notification_rules.page(who.org, cursor, limit, event), page=page)


@rules.get("/{rule_id}", responses=responses(401, 404, 503))
async def get_rule(rule_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    return await d.notification_rules.get(who.org, rule_id) or _missing()


@rules.put("/{rule_id}", responses=responses(400, 401, 404, 422, 503))
async def replace_rule(rule_id: ResourceId, body: NotificationRuleRequest, who: Caller = Depends(caller),
                       d: Deps = Depends(deps)):
    if await d.notification_rules.get(who.org, rule_id) is None:
        _missing()
    return await d.notification_rules.replace(who.org, rule_id, await _checked(body, who, d)) or _missing()


@rules.delete("/{rule_id}", status_code=204, response_class=Response, responses=responses(401, 404, 503))
async def delete_rule(rule_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    if not await d.notification_rules.delete(who.org, rule_id):
        _missing()
    return Response(status_code=204)


@router.post("/v1/notifications", status_code=202, responses=responses(
    400, 401, 422, 503, s422="Not a CloudEvent, no or an invalid customer_phone, no rule for the event, or a "
                             "value the template needs missing (the answer's details say which)"))
async def notify(body: ErpEventBody = Body(), who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Decide an ERP event now: 202 with `{"status": "sent|failed|skipped", "reason", "message_id",
    "order_id"}` (a repeat of an event is `skipped` / `duplicate`, and sends nothing)."""
    ce = ErpEvent.model_validate(body.model_dump(mode="json", exclude_none=True))
    parts = ce.type.split(".")
    outcome = await d.notifier.handle(who.org, ".".join(parts[-2:]), ce)
    if outcome.bad_input:
        raise ApiError(422, outcome.reason or "invalid", outcome.detail or "the event cannot be notified",
                       {"reason": outcome.reason, "field": _field(outcome.reason)})
    return outcome.answer()


def _field(reason: str | None) -> str:
    return {"invalid_phone": "data.customer_phone", "no_rule": "type"}.get(reason or "", "data")


def _missing():
    raise not_found("notification rule")
