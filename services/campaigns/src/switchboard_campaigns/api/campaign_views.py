"""A campaign as the API shows it, and a create/edit body checked into the spec the lifecycle takes
(shared by the campaign and broadcast-list routes)."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard_runtime.http.errors import ApiError

from ..content import CampaignContent, ContentError
from ..domain.campaign import Campaign
from ..domain.template_definition import TemplateRefusal
from ..domain.schedule import ScheduleError, check_not_past
from .schemas import CreateCampaign, spec_of


def campaign_view(c: Campaign, stats: dict) -> dict:
    return {"id": str(c.id), "name": c.name, "status": c.status, "reason": c.reason, "content": c.content,
            "senders": c.senders, "timezone": c.timezone, "window": c.window, "delay_ms": c.delay_ms,
            "schedule": c.schedule, "variables": c.variables, "created_at": c.created_at, "stats": stats}


def refused(exc: TemplateRefusal, **details) -> ApiError:
    """A campaign its template refuses (not approved, parameters that do not fill its variables…): a 422."""
    return ApiError(422, exc.code, str(exc), {**exc.details(), **details})


def checked_spec(body: CreateCampaign) -> dict:
    spec = spec_of(body)
    try:
        CampaignContent.from_spec(spec)  # placeholders parse; declared variables are known
        if body.schedule is not None:
            check_not_past(body.schedule, datetime.now(UTC))
    except (ContentError, ScheduleError) as exc:
        raise ApiError(422, "validation_error", str(exc), {"field": getattr(exc, "field", None)}) from exc
    return spec
