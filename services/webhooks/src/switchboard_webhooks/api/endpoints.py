"""`/v1/webhook-endpoints`: an organization's receivers of its events (create 201 — the signing secret
is shown in that answer only —, list, read, PATCH, delete 204), `rotate-secret`, the attempts log,
`recover` (re-send a time range) and `resend/{event_id}`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Depends, Path, Query, Response

from switchboard_contracts import streams
from switchboard_contracts.envelope import utcnow
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.outbound_guard import RefusedAddress, check_url, validate_url
from switchboard_runtime.http.pagination import Page, paged
from switchboard_runtime.http.paths import ResourceId

from ..domain import filters
from .deps import Deps, caller, deps
from .schemas import AttemptStatus, EndpointChanges, EndpointRequest, RecoverRequest

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"])
RESOLVE_SECONDS = 5.0
EventId = Path(min_length=1, max_length=512, pattern=r"^[^\x00/]+$", description="the CloudEvent id")


async def _checked_url(url: str, d: Deps) -> str:
    try:
        validate_url(url)
        if not d.settings.allow_private_urls:  # allowed: any host; every connection is checked anyway
            async with asyncio.timeout(RESOLVE_SECONDS):
                await check_url(url, allow_private=False)
    except RefusedAddress as exc:
        raise ApiError(422, "url_refused", str(exc), {"field": "url"}) from exc
    except (ValueError, TimeoutError) as exc:
        raise ApiError(422, "invalid_url", str(exc) or "the URL's host did not resolve in time",
                       {"field": "url"}) from exc
    return url


def _filters(types: list[str]) -> list[str]:
    try:
        return filters.normalized(types)
    except filters.BadFilter as exc:
        raise ApiError(422, "invalid_event_types", str(exc), {"field": "event_types"}) from exc


@router.post("", status_code=201, responses={
    **responses(400, 401, 422), 201: {"description": "The endpoint, with its `secret` (`whsec_…`): shown this once"}})
async def create(body: EndpointRequest, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Events published from now on are delivered to it (`recover` sends earlier ones)."""
    fields = {"url": await _checked_url(body.url, d), "event_types": _filters(body.event_types),
              "description": body.description, "enabled": body.enabled}
    position = (await d.js.stream_info(streams.EVENTS.name)).state.last_seq
    endpoint, secret = await d.endpoints.create(who.org, fields, who.actor, position)
    return {**endpoint, "secret": secret}


@router.get("", responses=responses(400, 401, 422))
async def list_endpoints(who: Caller = Depends(caller), d: Deps = Depends(deps), page: Page = Depends()):
    return await paged(lambda cursor, limit: d.endpoints.page(who.org, cursor, limit), page=page)


@router.get("/{endpoint_id}", responses=responses(401, 404, 422))
async def get(endpoint_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    return await d.endpoints.get(who.org, endpoint_id) or _missing()


@router.patch("/{endpoint_id}", responses=responses(400, 401, 404, 422))
async def change(endpoint_id: ResourceId, body: EndpointChanges, who: Caller = Depends(caller),
                 d: Deps = Depends(deps)):
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ApiError(422, "validation_error", "give the fields to change")
    if "url" in changes:
        changes["url"] = await _checked_url(changes["url"], d)
    if "event_types" in changes:
        changes["event_types"] = _filters(changes["event_types"])
    return await d.endpoints.update(who.org, endpoint_id, changes, who.actor) or _missing()


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, responses=responses(401, 404, 422))
async def delete(endpoint_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    if not await d.endpoints.delete(who.org, endpoint_id, who.actor):
        _missing()
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", responses=responses(401, 404, 422))
async def rotate_secret(endpoint_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """A new `secret` (shown this once); the previous one keeps signing beside it until
    `previous_secret_expires_at` (24 h), so a receiver can switch without losing a delivery."""
    overlap = timedelta(hours=d.settings.webhook_secret_overlap_hours)
    return await d.endpoints.rotate(who.org, endpoint_id, who.actor, overlap) or _missing()


@router.get("/{endpoint_id}/attempts", responses=responses(400, 401, 404, 422))
async def attempts(endpoint_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps),
                   page: Page = Depends(), status: AttemptStatus | None = Query(None)):
    """Every attempt, newest first: time, event id and type, stream sequence, attempt number, trigger
    (`delivery`, `recover`, `resend`), status, HTTP status, latency and error."""
    if await d.endpoints.get(who.org, endpoint_id) is None:
        _missing()
    return await d.attempts.page(endpoint_id, status, page.cursor, page.limit)


@router.post("/{endpoint_id}/recover", status_code=202, responses=responses(400, 401, 404, 409, 422))
async def recover(endpoint_id: ResourceId, body: RecoverRequest, who: Caller = Depends(caller),
                  d: Deps = Depends(deps)):
    """Re-send what this endpoint should have received from `since` until `until` (default now): the
    organization's events in that range matching its event types, in stream order, exact from the
    stream. Answers the job (`GET …/recoveries` follows it); the attempts log shows each delivery."""
    endpoint = await d.endpoints.get(who.org, endpoint_id) or _missing()
    if body.until is not None and body.until <= body.since:
        raise ApiError(422, "validation_error", "until must be after since", {"field": "until"})
    if body.since > utcnow():
        raise ApiError(422, "validation_error", "since is in the future", {"field": "since"})
    _enabled(endpoint)
    return await d.jobs.create(endpoint_id, who.org, "recover", since=body.since, until=body.until)


@router.post("/{endpoint_id}/resend/{event_id}", status_code=202, responses=responses(401, 404, 409, 422))
async def resend(endpoint_id: ResourceId, event_id: str = EventId, who: Caller = Depends(caller),
                 d: Deps = Depends(deps)):
    """Send one event again (one this endpoint was sent or tried: its attempts name it)."""
    endpoint = await d.endpoints.get(who.org, endpoint_id) or _missing()
    sequence = await d.attempts.sequence_of(endpoint_id, event_id)
    if sequence is None:
        raise ApiError(404, "not_found", "this endpoint was never sent that event", {"field": "event_id"})
    _enabled(endpoint)
    return await d.jobs.create(endpoint_id, who.org, "resend", sequence=sequence)


@router.get("/{endpoint_id}/recoveries", responses=responses(401, 404, 422))
async def recoveries(endpoint_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """The endpoint's recover and resend jobs, newest first (the last 50)."""
    if await d.endpoints.get(who.org, endpoint_id) is None:
        _missing()
    return {"items": await d.jobs.page(endpoint_id)}


def _enabled(endpoint: dict) -> None:
    if not endpoint["enabled"]:
        raise ApiError(409, "endpoint_disabled", "the endpoint is disabled: enable it first")


def _missing():
    raise not_found("webhook endpoint")
