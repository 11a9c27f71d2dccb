"""`GET /v1/stats/messages` and `GET /v1/stats/conversations` over `[from, to)` (default: the last 7
days), readable by every role. A range that ends before it starts is empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Query

from switchboard_runtime.http.openapi import responses

from .app import Deps, deps, org_of
from .inbox import invalid

router = APIRouter(prefix="/v1/stats", tags=["stats"])
INSTANT = {"format": "date-time"}
FROM = Query(None, alias="from", description="RFC 3339 (default: 7 days before `to`)", json_schema_extra=INSTANT)
TO = Query(None, description="RFC 3339 (default: now)", json_schema_extra=INSTANT)


def _instant(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid(field, "an RFC 3339 time, e.g. 2026-12-01T00:00:00Z") from exc
    if at.tzinfo is None:
        raise invalid(field, "an RFC 3339 time with its offset (Z or ±hh:mm)")
    return at


def _range(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    end = _instant(until, "to") or datetime.now(UTC)
    return _instant(since, "from") or end - timedelta(days=7), end


@router.get("/messages", responses=responses(401, 422, 503))
async def message_stats(org: str = Depends(org_of), d: Deps = Depends(deps), since: str | None = FROM,
                        to: str | None = TO, sender_id: str | None = Query(None, min_length=1, max_length=64)):
    """Messages created in the range by direction and status; `delivery_rate` (delivered or read, of
    those with an outcome) and `read_rate` (read, of those delivered)."""
    return await d.stats.messages(org, *_range(since, to), sender_id)


@router.get("/conversations", responses=responses(401, 422, 503))
async def conversation_stats(org: str = Depends(org_of), d: Deps = Depends(deps), since: str | None = FROM,
                             to: str | None = TO):
    """Conversations opened and resolved in the range; first-response times (of first replies in the
    range) and resolution times (of resolves in the range), median and p90, in seconds; SLA hit and
    missed counts of the conversations resolved under a policy."""
    return await d.stats.conversations(org, *_range(since, to))
