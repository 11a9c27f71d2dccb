"""Sending windows, schedules, time zones and delays: validation of the API values and the plan's
answers (open now, opens next, closes when), across overnight windows, weekends and DST."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from switchboard_campaigns.domain.schedule import (
    DAYS, DelayMs, Schedule, ScheduleError, SendingPlan, TimeZoneName, Window, check_not_past,
    next_delay, zone_of,
)

SAO_PAULO, BERLIN, NEW_YORK = ZoneInfo("America/Sao_Paulo"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def at(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- validation ----------------------------------------------------------------------------------

def test_window_defaults_to_every_day_and_accepts_a_json_list():
    assert Window(start="09:00", end="20:00").days == DAYS
    assert Window.model_validate({"start": "09:00", "end": "20:00", "days": ["mon", "sat"]}).days == ("mon", "sat")


@pytest.mark.parametrize("body, words", [
    ({"start": "09:00", "end": "09:00"}, "never opens"),
    ({"start": "09:00", "end": "20:00", "days": []}, "never opens"),
    ({"start": "09:00", "end": "20:00", "days": ["mon", "mon"]}, "more than once"),
    ({"start": "9:00", "end": "20:00"}, "HH:MM"),
    ({"start": "09:00", "end": "24:00"}, "HH:MM"),
    ({"start": "09:60", "end": "20:00"}, "HH:MM"),
    ({"start": "09:00", "end": "20:00", "days": ["monday"]}, "days"),
    ({"start": 900, "end": "20:00"}, "start"),
    ({"start": "09:00", "end": "20:00", "tz": "UTC"}, "tz"),
])
def test_bad_windows_are_rejected_naming_what_is_wrong(body, words):
    with pytest.raises(ValidationError) as caught:
        Window.model_validate(body)
    assert words in str(caught.value)


def test_delay_bounds():
    assert DelayMs(min=0, max=3_600_000).max == 3_600_000
    for body, words in [({"min": 5, "max": 1}, "min (5) is greater than max (1)"),
                        ({"min": -1, "max": 1}, "min"), ({"min": 0, "max": 3_600_001}, "max"),
                        ({"min": "5", "max": 10}, "min"), ({"min": True, "max": 10}, "min"),
                        ({"min": 1}, "max")]:
        with pytest.raises(ValidationError) as caught:
            DelayMs.model_validate(body)
        assert words in str(caught.value)


def test_schedule_takes_iso_8601_with_an_offset_only():
    s = Schedule.model_validate({"start_at": "2030-03-01T09:00:00-03:00", "end_at": "2030-03-02T09:00:00Z"})
    assert s.start_at == utc(2030, 3, 1, 12)
    assert Schedule().start_at is None
    for body, words in [({"start_at": "2030-03-01T09:00:00"}, "UTC offset"),
                        ({"start_at": 1_900_000_000}, "ISO 8601"),
                        ({"start_at": "tomorrow"}, "start_at"),
                        ({"start_at": "2030-03-02T09:00:00Z", "end_at": "2030-03-02T09:00:00Z"}, "not after"),
                        ({"begin": "2030-03-02T09:00:00Z"}, "begin")]:
        with pytest.raises(ValidationError) as caught:
            Schedule.model_validate(body)
        assert words in str(caught.value)


def test_a_start_in_the_past_is_rejected_with_a_minute_of_slack():
    now = utc(2030, 1, 1, 12)
    check_not_past(Schedule(start_at=now - timedelta(seconds=30)), now)
    check_not_past(Schedule(), now)
    with pytest.raises(ScheduleError, match="schedule.start_at .* is in the past"):
        check_not_past(Schedule(start_at=now - timedelta(seconds=61)), now)
    with pytest.raises(ScheduleError, match="schedule.end_at .* is in the past"):
        check_not_past(Schedule(end_at=now), now)


def test_unknown_time_zones_are_rejected_by_name():
    assert zone_of("America/Sao_Paulo") == SAO_PAULO
    for name in ["Mars/Olympus", "America", "", "../etc/passwd", "localtime", "America/Sao_Paulo "]:
        with pytest.raises(ScheduleError, match="unknown timezone"):
            zone_of(name)
    with pytest.raises(ScheduleError, match="'Mars/Olympus'"):
        SendingPlan("Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown timezone 'Nowhere'"):
        TypeAdapter(TimeZoneName).validate_python("Nowhere")
    assert TypeAdapter(TimeZoneName).validate_python("Europe/Berlin") == "Europe/Berlin"


def test_next_delay_is_uniform_between_the_bounds_in_seconds():
    rng = random.Random(7)
    assert next_delay(None, rng) == 0.0
    assert next_delay(DelayMs(min=1500, max=1500), rng) == 1.5
    draws = [next_delay(DelayMs(min=1000, max=3000), rng) for _ in range(2000)]
    assert all(1.0 <= d <= 3.0 for d in draws) and min(draws) < 1.1 and max(draws) > 2.9


# --- windows -------------------------------------------------------------------------------------

def test_a_daytime_window_on_weekdays():
    plan = SendingPlan("America/Sao_Paulo", Window(start="09:00", end="20:00", days=WEEKDAYS))
    monday = (2030, 3, 4)
    assert plan.is_open(at(SAO_PAULO, *monday, 9))
    assert plan.is_open(at(SAO_PAULO, *monday, 19, 59, 59))
    assert plan.is_open(utc(*monday, 12))  # 09:00 in São Paulo
    assert not plan.is_open(at(SAO_PAULO, *monday, 8, 59, 59))
    assert not plan.is_open(at(SAO_PAULO, *monday, 20))
    assert not plan.is_open(at(SAO_PAULO, 2030, 3, 9, 12))  # Saturday
    assert plan.closes_at(at(SAO_PAULO, *monday, 10)) == at(SAO_PAULO, *monday, 20)


def test_next_open_across_a_weekend():
    plan = SendingPlan("America/Sao_Paulo", Window(start="09:00", end="20:00", days=WEEKDAYS))
    friday_evening = at(SAO_PAULO, 2030, 3, 8, 20, 30)
    assert plan.next_open(friday_evening) == at(SAO_PAULO, 2030, 3, 11, 9)
    assert plan.next_open(friday_evening).tzinfo is UTC
    assert plan.closes_at(friday_evening) == at(SAO_PAULO, 2030, 3, 11, 20)
    inside = at(SAO_PAULO, 2030, 3, 8, 10)
    assert plan.next_open(inside) is inside


def test_an_overnight_window_belongs_to_the_day_it_opens():
    plan = SendingPlan("Europe/Berlin", Window(start="22:00", end="06:00", days=["fri"]))
    friday, saturday, thursday = (2030, 3, 8), (2030, 3, 9), (2030, 3, 7)
    assert plan.is_open(at(BERLIN, *friday, 22))
    assert plan.is_open(at(BERLIN, *friday, 23, 59))
    assert plan.is_open(at(BERLIN, *saturday, 5, 59))
    assert not plan.is_open(at(BERLIN, *saturday, 6))
    assert not plan.is_open(at(BERLIN, *saturday, 23))
    assert not plan.is_open(at(BERLIN, *thursday, 23))
    assert not plan.is_open(at(BERLIN, *friday, 3))  # Thursday night's window, not listed
    assert plan.closes_at(at(BERLIN, *friday, 23)) == at(BERLIN, *saturday, 6)
    assert plan.next_open(at(BERLIN, *saturday, 6)) == at(BERLIN, 2030, 3, 15, 22)


def test_an_overnight_window_ending_at_midnight():
    plan = SendingPlan("UTC", Window(start="18:00", end="00:00", days=["sun"]))
    assert plan.is_open(utc(2030, 3, 10, 23, 59))
    assert not plan.is_open(utc(2030, 3, 11, 0))
    assert plan.closes_at(utc(2030, 3, 10, 18)) == utc(2030, 3, 11)


def test_without_a_window_only_the_schedule_bounds_count():
    start, end = utc(2030, 1, 1), utc(2030, 1, 2)
    plan = SendingPlan(schedule=Schedule(start_at=start, end_at=end))
    assert not plan.is_open(start - timedelta(seconds=1))
    assert plan.next_open(start - timedelta(hours=5)) == start
    assert plan.is_open(start) and plan.closes_at(start) == end
    assert not plan.is_open(end) and plan.next_open(end) is None
    unbounded = SendingPlan()
    assert unbounded.is_open(utc(2030, 1, 1)) and unbounded.closes_at(utc(2030, 1, 1)) is None


def test_schedule_bounds_clip_the_window():
    window = Window(start="09:00", end="20:00")
    plan = SendingPlan("America/Sao_Paulo", window, Schedule(start_at=at(SAO_PAULO, 2030, 3, 4, 12),
                                                             end_at=at(SAO_PAULO, 2030, 3, 6, 15)))
    assert not plan.is_open(at(SAO_PAULO, 2030, 3, 4, 10))  # in the window, before start_at
    assert plan.next_open(at(SAO_PAULO, 2030, 3, 1, 10)) == at(SAO_PAULO, 2030, 3, 4, 12)
    assert plan.closes_at(at(SAO_PAULO, 2030, 3, 4, 13)) == at(SAO_PAULO, 2030, 3, 4, 20)
    assert plan.closes_at(at(SAO_PAULO, 2030, 3, 6, 10)) == at(SAO_PAULO, 2030, 3, 6, 15)  # end_at first
    assert not plan.is_open(at(SAO_PAULO, 2030, 3, 6, 15))
    assert plan.next_open(at(SAO_PAULO, 2030, 3, 6, 15)) is None
    with pytest.raises(ScheduleError, match="never opens again"):
        plan.closes_at(at(SAO_PAULO, 2030, 3, 6, 16))
    # end_at before the next opening: closed for good although end_at is still ahead
    ends_at_night = SendingPlan("America/Sao_Paulo", window, Schedule(end_at=at(SAO_PAULO, 2030, 3, 6, 23)))
    assert ends_at_night.next_open(at(SAO_PAULO, 2030, 3, 6, 21)) is None


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="naive"):
        SendingPlan().is_open(datetime(2030, 1, 1))


# --- DST -----------------------------------------------------------------------------------------

def test_berlin_spring_forward_a_window_opening_in_the_gap_opens_when_the_gap_ends():
    plan = SendingPlan("Europe/Berlin", Window(start="02:30", end="05:00"))  # 2024-03-31 02:00→03:00
    assert plan.next_open(utc(2024, 3, 30, 22)) == utc(2024, 3, 31, 1)  # 03:00 CEST
    assert not plan.is_open(utc(2024, 3, 31, 0, 59, 59))
    assert plan.is_open(utc(2024, 3, 31, 1))
    assert plan.closes_at(utc(2024, 3, 31, 1)) == utc(2024, 3, 31, 3)  # 05:00 CEST
    assert plan.next_open(utc(2024, 3, 31, 3)) == utc(2024, 4, 1, 0, 30)  # 02:30 CEST, a normal day
    assert plan.next_open(utc(2024, 3, 29, 12)) == utc(2024, 3, 30, 1, 30)  # 02:30 CET the day before


def test_berlin_windows_keep_their_wall_clock_times_across_both_transitions():
    plan = SendingPlan("Europe/Berlin", Window(start="09:00", end="17:00"))
    assert plan.next_open(utc(2024, 3, 30, 20)) == utc(2024, 3, 31, 7)  # CEST
    assert plan.next_open(utc(2024, 3, 30, 1)) == utc(2024, 3, 30, 8)  # CET
    assert plan.next_open(utc(2024, 10, 26, 20)) == utc(2024, 10, 27, 8)  # back to CET
    short_night = SendingPlan("Europe/Berlin", Window(start="01:00", end="04:00", days=["sun"]))
    o = short_night.next_open(utc(2024, 3, 30, 12))
    assert short_night.closes_at(o) - o == timedelta(hours=2)
    long_night = SendingPlan("Europe/Berlin", Window(start="01:00", end="04:00", days=["sun"]))
    o = long_night.next_open(utc(2024, 10, 26, 12))
    assert long_night.closes_at(o) - o == timedelta(hours=4)


def test_berlin_fall_back_an_ambiguous_opening_is_its_first_occurrence():
    plan = SendingPlan("Europe/Berlin", Window(start="02:30", end="04:00"))  # 2024-10-27 03:00→02:00
    o = plan.next_open(utc(2024, 10, 26, 12))
    assert o == at(BERLIN, 2024, 10, 27, 2, 30, fold=0).astimezone(UTC) == utc(2024, 10, 27, 0, 30)
    assert plan.closes_at(o) == utc(2024, 10, 27, 3)
    assert plan.is_open(utc(2024, 10, 27, 1, 15))  # 02:15 CET, the repeated hour, inside the period


def test_new_york_a_window_inside_the_gap_never_opens_that_day():
    plan = SendingPlan("America/New_York", Window(start="02:10", end="02:50"))  # 2024-03-10 02:00→03:00
    assert plan.next_open(at(NEW_YORK, 2024, 3, 10, 0)) == at(NEW_YORK, 2024, 3, 11, 2, 10)
    assert not any(plan.is_open(utc(2024, 3, 10, 6) + timedelta(minutes=m)) for m in range(0, 120, 5))
    starts_in_gap = SendingPlan("America/New_York", Window(start="02:15", end="08:00"))
    assert starts_in_gap.next_open(at(NEW_YORK, 2024, 3, 10, 0)) == utc(2024, 3, 10, 7)  # 03:00 EDT


def test_new_york_fall_back_and_an_overnight_window():
    plan = SendingPlan("America/New_York", Window(start="01:30", end="01:45"))  # 2024-11-03 02:00→01:00
    o = plan.next_open(at(NEW_YORK, 2024, 11, 3, 0))
    assert o == utc(2024, 11, 3, 5, 30) and plan.closes_at(o) == utc(2024, 11, 3, 5, 45)  # EDT
    overnight = SendingPlan("America/New_York", Window(start="22:00", end="06:00", days=["sat"]))
    o = overnight.next_open(at(NEW_YORK, 2024, 11, 2, 12))
    assert overnight.closes_at(o) - o == timedelta(hours=9)  # the night gains an hour


def test_periods_touching_across_a_gap_are_one_period():
    # 02:30–02:00 overnight: on 2024-03-31 Saturday's period closes at 02:00 and Sunday's opens at
    # 02:30, both swallowed by the gap, so sending goes on without a break.
    plan = SendingPlan("Europe/Berlin", Window(start="02:30", end="02:00"))
    assert plan.closes_at(utc(2024, 3, 30, 12)) == utc(2024, 4, 1, 0)  # Monday 02:00 CEST


# --- properties ----------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe",
         "Asia/Kolkata", "Pacific/Apia"]
TRANSITIONS = [utc(2024, 3, 31, 1), utc(2024, 10, 27, 1), utc(2024, 3, 10, 7), utc(2024, 11, 3, 6),
               utc(2011, 12, 30, 10), utc(2024, 4, 6, 15), utc(2018, 11, 4, 3)]
minutes = st.one_of(st.integers(0, 1439), st.integers(60, 210))  # often near the usual DST hours


@st.composite
def windows(draw) -> Window | None:
    if draw(st.integers(0, 5)) == 0:
        return None
    start, end = draw(minutes), draw(minutes)
    if start == end:
        end = (end + 1) % 1440
    days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
    hhmm = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
    return Window(start=hhmm(start), end=hhmm(end), days=days)


instants = st.one_of(
    st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.builds(lambda t, s: t + timedelta(seconds=s), st.sampled_from(TRANSITIONS), st.integers(-3 * 86400, 3 * 86400)),
)


@st.composite
def plans(draw) -> tuple[SendingPlan, datetime]:
    t = draw(instants)
    bound = st.none() | st.integers(-10 * 86400, 10 * 86400).map(lambda s: t + timedelta(seconds=s))
    start_at, end_at = draw(bound), draw(bound)
    if start_at and end_at and end_at <= start_at:
        start_at, end_at = end_at - timedelta(hours=1), start_at + timedelta(hours=1)
    return SendingPlan(draw(st.sampled_from(ZONES)), draw(windows()), Schedule(start_at=start_at, end_at=end_at)), t


@settings(max_examples=300, deadline=None)
@given(plans(), st.lists(st.floats(0, 1), min_size=8, max_size=8))
def test_next_open_is_open_and_nothing_before_it_is(case, fractions):
    plan, t = case
    n = plan.next_open(t)
    if n is None:
        horizon = [t + timedelta(days=f * 20) for f in fractions]
        assert not any(plan.is_open(x) for x in horizon)
        return
    assert n >= t and plan.is_open(n)
    between = [t + (n - t) * f for f in fractions] + [n - timedelta(seconds=1)]
    assert not any(plan.is_open(x) for x in between if t <= x < n)
    c = plan.closes_at(t)
    assert c == plan.closes_at(n)
    if c is None:
        return
    assert c > n and not plan.is_open(c)
    assert all(plan.is_open(n + (c - n) * f) for f in fractions if n + (c - n) * f < c)
    assert plan.is_open(c - timedelta(microseconds=1))


@settings(max_examples=300, deadline=None)
@given(windows().filter(bool), st.sampled_from(ZONES), instants)
def test_is_open_follows_the_wall_clock_away_from_transitions(window, zone_name, t):
    zone = ZoneInfo(zone_name)
    near = [t + timedelta(hours=h) for h in range(-30, 31, 6)]
    if len({x.astimezone(zone).utcoffset() for x in near}) > 1:
        return  # a transition within a day: covered by the DST tests above
    plan = SendingPlan(zone_name, window)
    local = t.astimezone(zone)
    wall, today = local.time().replace(tzinfo=None), local.weekday()
    opens, closes = window.opens, window.closes
    days = window.weekdays
    if opens < closes:
        expected = today in days and opens <= wall < closes
    else:
        expected = (today in days and wall >= opens) or ((today - 1) % 7 in days and wall < closes)
    assert plan.is_open(t) == expected
