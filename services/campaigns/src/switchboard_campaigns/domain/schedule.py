"""When a campaign may send: its time zone, daily sending window, start/end bounds and the random
delay between messages, as validated API values (`Window`, `DelayMs`, `Schedule`, `TimeZoneName`),
and `SendingPlan`, which answers "is it open now, when does it open next, when does it close".

A window occurrence is one contiguous period on a listed day: from the first instant the campaign's
local clock shows `start` to the first instant after that it shows `end` (the next day when `end` is
before `start`: an overnight window belongs to the day it opens). A wall time that a DST gap skips
counts as the first valid instant after the gap; an ambiguous one (clocks set back) as its first
occurrence. All arithmetic is done on UTC instants, so DST never shifts a comparison."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any, Iterator, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from switchboard_contracts.numbers import whole

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DELAY_MS = 3_600_000
PAST_TOLERANCE = timedelta(seconds=60)
_CACHED_DAYS = 64  # occurrences a plan remembers (it runs for days, asked about the same few)
_SEARCH_DAYS = 800  # a listed day recurs weekly, so an open period is always found far sooner


class ScheduleError(ValueError):
    """A schedule, window or time zone that cannot work (a ValueError, so pydantic reports it)."""


# --- time zones ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones() - {"localtime", "Factory"})  # host-specific / meaningless


def zone_of(name: str) -> ZoneInfo:
    """The IANA time zone called `name`; ScheduleError naming it when there is none."""
    if name not in _zone_names():
        raise ScheduleError(f"unknown timezone {name!r}: use an IANA name such as 'America/Sao_Paulo'")
    return ZoneInfo(name)


def _known_zone(name: str) -> str:
    zone_of(name)
    return name


TimeZoneName = Annotated[str, Field(strict=True, json_schema_extra=lambda s: s.update(enum=sorted(_zone_names()))),
                         AfterValidator(_known_zone)]


# --- API values ----------------------------------------------------------------------------------

def _hhmm(value: str) -> str:
    hh, sep, mm = value.partition(":")
    if not (sep and len(hh) == len(mm) == 2 and value.isascii() and hh.isdigit() and mm.isdigit()
            and int(hh) < 24 and int(mm) < 60):
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return value


HHMM = Annotated[str, Field(json_schema_extra={"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}), AfterValidator(_hhmm)]




class _Value(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Window(_Value):
    """A daily sending window in the campaign's time zone. `end` before `start` is overnight
    (22:00-06:00) and runs into the next day; `days` are the days the window opens."""

    start: HHMM
    end: HHMM
    days: Annotated[tuple[Day, ...], Field(strict=False, json_schema_extra={"minItems": 1, "uniqueItems": True})] = DAYS

    @model_validator(mode="after")
    def _opens(self) -> Window:
        if self.start == self.end:
            raise ValueError(f"window: start and end are both {self.start}, a window that never opens")
        if not self.days:
            raise ValueError("window: days is empty, a window that never opens")
        if len(set(self.days)) != len(self.days):
            raise ValueError("window: days lists a day more than once")
        return self

    @property
    def opens(self) -> time:
        return time.fromisoformat(self.start)

    @property
    def closes(self) -> time:
        return time.fromisoformat(self.end)

    @property
    def weekdays(self) -> frozenset[int]:
        """The opening days as `date.weekday()` numbers (Monday is 0)."""
        return frozenset(DAYS.index(d) for d in self.days)


class DelayMs(_Value):
    """The random pause between two messages from one sender, in milliseconds."""

    min: whole(ge=0, le=MAX_DELAY_MS)
    max: whole(ge=0, le=MAX_DELAY_MS)

    @model_validator(mode="after")
    def _ordered(self) -> DelayMs:
        if self.min > self.max:
            raise ValueError(f"delay_ms: min ({self.min}) is greater than max ({self.max})")
        return self


def _iso_datetime(value: Any) -> Any:
    if not isinstance(value, (str, datetime)):
        raise ValueError("must be an ISO 8601 date-time with a UTC offset, e.g. 2025-03-01T09:00:00-03:00")
    return value


def _aware(value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise ValueError("needs a UTC offset (e.g. 2025-03-01T09:00:00-03:00 or ...Z)")
    return value


Instant = Annotated[datetime, Field(strict=False), BeforeValidator(_iso_datetime), AfterValidator(_aware)]


class Schedule(_Value):
    """When the campaign may start and must stop sending (either may be left open)."""

    start_at: Instant | None = None
    end_at: Instant | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValueError(f"schedule: end_at ({self.end_at.isoformat()}) is not after "
                             f"start_at ({self.start_at.isoformat()})")
        return self


def check_not_past(schedule: Schedule, now: datetime) -> None:
    """Reject a start_at more than a minute before `now` or an end_at already reached."""
    now = _utc(now)
    if schedule.start_at and schedule.start_at < now - PAST_TOLERANCE:
        raise ScheduleError(f"schedule.start_at {schedule.start_at.isoformat()} is in the past "
                            f"(now {now.isoformat()})")
    if schedule.end_at and schedule.end_at <= now:
        raise ScheduleError(f"schedule.end_at {schedule.end_at.isoformat()} is in the past "
                            f"(now {now.isoformat()})")


def next_delay(delay: DelayMs | None, rng: random.Random) -> float:
    """Seconds to wait before a sender's next message: uniform in [min, max] ms, 0 without a delay."""
    if delay is None:
        return 0.0
    return rng.uniform(delay.min, delay.max) / 1000.0


# --- the plan ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SendingPlan:
    """A campaign's time zone, window and schedule, answering when it may send."""

    timezone: str = "UTC"
    window: Window | None = None
    schedule: Schedule | None = None
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _days: frozenset[int] = field(init=False, repr=False, compare=False)
    _occurrences: dict[date, tuple[datetime, datetime]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", zone_of(self.timezone))
        object.__setattr__(self, "_days", self.window.weekdays if self.window else frozenset())
        object.__setattr__(self, "_occurrences", {})

    @property
    def _start(self) -> datetime | None:
        return self.schedule.start_at if self.schedule else None

    @property
    def _end(self) -> datetime | None:
        return self.schedule.end_at if self.schedule else None

    def is_open(self, now: datetime) -> bool:
        """Whether a message may be sent at `now`."""
        now = _utc(now)
        if (self._start and now < self._start) or (self._end and now >= self._end):
            return False
        if self.window is None:
            return True
        day = now.astimezone(self.zone).date()
        return any(o <= now < c for o, c in map(self._occurrence, (day - timedelta(1), day)) if o < c)

    def next_open(self, now: datetime) -> datetime | None:
        """`now` when open, else the next instant the plan opens (UTC); None once it never will."""
        period = self._period(now)
        if period is None:
            return None
        return now if period[0] <= _utc(now) else period[0]

    def closes_at(self, now: datetime) -> datetime | None:
        """When the period open at `now` (or, when closed, the next one) ends: the window's end or
        end_at, whichever is first; None when it never ends. ScheduleError when no period is left
        (next_open is None), so an ended plan is never taken for an endless one."""
        period = self._period(now)
        if period is None:
            raise ScheduleError("the plan never opens again: its schedule has ended")
        return period[1]

    def _period(self, now: datetime) -> tuple[datetime, datetime | None] | None:
        """The open period containing `now` or else the first after it, clipped to the schedule."""
        t = max(_utc(now), self._start) if self._start else _utc(now)
        end = self._end
        if end and t >= end:
            return None
        if self.window is None:
            return t, end
        periods = self._periods(t.astimezone(self.zone).date() - timedelta(1))
        for opens, closes in periods:
            if closes <= t:
                continue
            opens = max(opens, t)
            if end and opens >= end:
                return None
            return opens, min(closes, end) if end else closes
        return None

    def _periods(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        """Open periods from the occurrence on `first` on, in order: empty occurrences dropped and
        touching ones (possible only around a DST gap) merged."""
        current: tuple[datetime, datetime] | None = None
        for n in range(_SEARCH_DAYS):
            day = first + timedelta(n)
            if day.weekday() not in self._days:
                continue
            o, c = self._occurrence(day)
            if o >= c:
                continue
            if current and current[1] == o:
                current = (current[0], c)
                continue
            if current:
                yield current
            current = (o, c)
        if current:
            yield current

    def _occurrence(self, day: date) -> tuple[datetime, datetime]:
        """The window opening on `day` as UTC instants (empty when both ends fall in one DST gap,
        or on a day not listed)."""
        if day.weekday() not in self._days:
            return _NEVER
        cached = self._occurrences.get(day)
        if cached is None:
            assert self.window is not None
            opens, closes = self.window.opens, self.window.closes
            close_day = day + timedelta(1) if closes < opens else day
            cached = _instant(day, opens, self.zone), _instant(close_day, closes, self.zone)
            if len(self._occurrences) >= _CACHED_DAYS:
                self._occurrences.clear()
            self._occurrences[day] = cached
        return cached


_NEVER = (datetime.max.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))


def _utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"a naive datetime ({moment.isoformat()}) is not an instant: give it a time zone")
    return moment.astimezone(UTC)


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant at which the local clock shows `wall` on `day`, or the first valid instant
    after it when a DST gap skips it."""
    local = datetime.combine(day, wall, tzinfo=zone)  # fold=0: the earlier of an ambiguous pair
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return moment
    # In a gap fold=0 reads `wall` with the offset before the jump (an instant after it) and
    # fold=1 with the offset after (an instant before it): the transition lies between them.
    before, after = local.replace(fold=1).astimezone(UTC), moment
    offset = after.astimezone(zone).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == offset:
            after = middle
        else:
            before = middle
    return after
