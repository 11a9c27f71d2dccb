"""SLA policies (pure): which policy applies to a conversation, its targets' deadlines, what the
conversation's SLA shows, and business time.

A policy names up to three targets — `first_response` (the first reply after the contact began to
wait), `next_response` (each later reply), `resolution` (resolved after the contact first wrote) — in
seconds, counted in business time when it has `business_hours` (a time zone and weekly hours), else
around the clock. The most specific policy applies: a matching tag, then a matching priority, then
the default. The clock starts at `waiting_since` (the first unanswered inbound message), also when a
policy comes to apply later; so deadlines derive from the conversation's facts and the policy as it
is now, and a changed policy recomputes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 400  # business hours found in no day of a year: the deadline is out of reach


@dataclass(frozen=True)
class BusinessHours:
    time_zone: str
    hours: dict[str, list[tuple[time, time]]]  # day → [(start, end)], sorted, not overlapping

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of business time after `start`."""
        tz = ZoneInfo(self.time_zone)
        local = start.astimezone(tz)
        left = timedelta(seconds=seconds)
        day = local.date()
        for _ in range(MAX_DAYS):
            for begin, end in self.hours.get(DAYS[day.weekday()], []):
                a = datetime.combine(day, begin, tz)
                b = datetime.combine(day, end, tz) if end != time(0) else datetime.combine(day + timedelta(days=1), time(0), tz)
                a = max(a, local)
                if b <= a:
                    continue
                if b - a >= left:
                    return (a + left).astimezone(start.tzinfo)
                left -= b - a
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), tz)
        raise ValueError("the business hours leave no time within a year")


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    first_response_seconds: int | None = None
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None
    business_hours: BusinessHours | None = None
    warning_before_seconds: int | None = None
    applies_to: dict = field(default_factory=lambda: {"default": True})
    raise_priority: bool = False
    escalate_to_team: str | None = None
    created_at: datetime | None = None

    def specificity(self, priority: str, tags: list[str]) -> int | None:
        """How well the policy matches (higher wins), None when it does not."""
        if "tag" in self.applies_to:
            return 3 if self.applies_to["tag"] in tags else None
        if "priority" in self.applies_to:
            return 2 if self.applies_to["priority"] == priority else None
        return 1 if self.applies_to.get("default") else None

    def after(self, start: datetime, seconds: int) -> datetime:
        return self.business_hours.add(start, seconds) if self.business_hours else start + timedelta(seconds=seconds)


def choose(policies: list[Policy], priority: str, tags: list[str]) -> Policy | None:
    """The most specific matching policy (the oldest among equals)."""
    ranked = [(p.specificity(priority, tags), p) for p in policies]
    ranked = [(s, p) for s, p in ranked if s is not None]
    if not ranked:
        return None
    best = max(s for s, _ in ranked)
    return min((p for s, p in ranked if s == best), key=lambda p: (p.created_at or datetime.min, p.id))


@dataclass(frozen=True)
class Facts:
    """What the deadlines derive from (the conversation's read row)."""

    status: str
    waiting_since: datetime | None  # the first unanswered inbound message
    first_reply_at: datetime | None
    sla_started_at: datetime | None  # the first inbound message since the conversation was last resolved


@dataclass(frozen=True)
class Deadlines:
    first_response: datetime | None = None  # pending targets only: a met one is None
    next_response: datetime | None = None
    resolution: datetime | None = None

    def pending(self) -> dict[str, datetime]:
        return {k: v for k, v in (("first_response", self.first_response), ("next_response", self.next_response),
                                  ("resolution", self.resolution)) if v is not None}


def deadlines(policy: Policy, f: Facts) -> Deadlines:
    if f.status in ("resolved", "archived"):
        return Deadlines()
    first = nxt = None
    if f.waiting_since is not None:
        if f.first_reply_at is None and policy.first_response_seconds:
            first = policy.after(f.waiting_since, policy.first_response_seconds)
        elif f.first_reply_at is not None and policy.next_response_seconds:
            nxt = policy.after(f.waiting_since, policy.next_response_seconds)
    resolution = (policy.after(f.sla_started_at, policy.resolution_seconds)
                  if f.sla_started_at is not None and policy.resolution_seconds else None)
    return Deadlines(first, nxt, resolution)


def next_check(policy: Policy, d: Deadlines, fired: set[str]) -> datetime | None:
    """When something is next due: a warning or a breach not fired yet for its deadline."""
    times = []
    for target, due in d.pending().items():
        if policy.warning_before_seconds and marker(target, "warning", due) not in fired:
            times.append(due - timedelta(seconds=policy.warning_before_seconds))
        if marker(target, "breached", due) not in fired:
            times.append(due)
    return min(times) if times else None


def due_now(policy: Policy, d: Deadlines, fired: set[str], now: datetime) -> list[tuple[str, str, datetime]]:
    """(target, "warning" | "breached", due) that are due at `now` and not fired yet."""
    out = []
    for target, due in d.pending().items():
        if now >= due and marker(target, "breached", due) not in fired:
            out.append((target, "breached", due))
        elif (policy.warning_before_seconds and now >= due - timedelta(seconds=policy.warning_before_seconds)
              and marker(target, "warning", due) not in fired):
            out.append((target, "warning", due))
    return out


def marker(target: str, kind: str, due: datetime) -> str:
    """What records that a target's warning or breach was fired for this deadline."""
    return f"{target}:{kind}:{due.timestamp():.0f}"


def status(has_policy: bool, d: Deadlines, missed: bool, now: datetime) -> str | None:
    if not has_policy:
        return None
    if missed or any(due <= now for due in d.pending().values()):
        return "missed"
    return "active" if d.pending() else "hit"


def clock(value: str) -> time:
    """`HH:MM` as a time of day (`24:00`, the end of a day, as midnight)."""
    return time(0) if value == "24:00" else time.fromisoformat(value)
