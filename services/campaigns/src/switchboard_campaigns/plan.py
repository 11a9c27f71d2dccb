"""A campaign's sending plan from its stored spec (time zone, daily window, schedule)."""

from __future__ import annotations

from datetime import datetime

from .domain.schedule import Schedule, SendingPlan, Window


def plan_of(spec: dict) -> SendingPlan:
    return SendingPlan(timezone=spec.get("timezone") or "UTC",
                       window=Window(**spec["window"]) if spec.get("window") else None,
                       schedule=Schedule(**spec["schedule"]) if spec.get("schedule") else None)


def started(plan: SendingPlan, now: datetime) -> bool:
    """The scheduled start has come (or there is none)."""
    return plan.schedule is None or plan.schedule.start_at is None or now >= plan.schedule.start_at


def ended(plan: SendingPlan, now: datetime) -> bool:
    """The schedule's end has passed: what is still pending will not be sent."""
    return plan.schedule is not None and plan.schedule.end_at is not None and now >= plan.schedule.end_at
