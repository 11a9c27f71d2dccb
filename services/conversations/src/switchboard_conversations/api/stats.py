"""`GET /v1/stats/messages` and `GET /v1/stats/conversations` over `[from, to)` (default: the last 7
days), readable by every role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from switchboard_runtime.http.openapi import responses

from .app import Deps, deps, org_of
from .inbox import invalid

router = APIRouter(prefix="/v1/stats", tags=["stats"])
FROM = Query(None, alias="from", description="RFC 3339 (default: 7 days before `to`)")
TO = Query(None, description="RFC 3339 (default: now)")


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=7)
    if since >= until:
        raise invalid("from", "must be before to")
    if until - since > timedelta(days=366):
        raise invalid("from", "a range of at most 366 days")
    return since, until


@router.get("/messages", responses=responses(401, 422, 503))
async def message_stats(org: str = Depends(org_of), d: Deps = Depends(deps), since: AwareDatetime | None = FROM,
                        to: AwareDatetime | None = TO,
                        sender_id: str | None = Query(None, min_length=1, max_length=64)):
    """Messages created in the range by direction and status; `delivery_rate` (delivered or read, of
    those with an outcome) and `read_rate` (read, of those delivered)."""
    return await d.stats.messages(org, *_range(since, to), sender_id)


@router.get("/conversations", responses=responses(401, 422, 503))
async def conversation_stats(org: str = Depends(org_of), d: Deps = Depends(deps), since: AwareDatetime | None = FROM,
                             to: AwareDatetime | None = TO):
    """Conversations opened and resolved in the range; first-response times (of first replies in the
    range) and resolution times (of resolves in the range), median and p90, in seconds; SLA hit and
    missed counts of the conversations resolved under a policy."""
    return await d.stats.conversations(org, *_range(since, to))
