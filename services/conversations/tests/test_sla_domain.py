"""SLA policies, pure: business time, which policy applies, deadlines, what is due, the aggregate's
escalation."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from switchboard_conversations.application import ConversationsApp, NewConversation
from switchboard_conversations.domain import sla
from switchboard_runtime.eventstore import memory_application

BERLIN = sla.BusinessHours("Europe/Berlin", {d: [(time(9), time(17))] for d in ("mon", "tue", "wed", "thu", "fri")})
MONDAY_8_UTC = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


def test_business_time_counts_only_the_open_hours():
    assert BERLIN.add(MONDAY_8_UTC, 3600) == MONDAY_8_UTC + timedelta(hours=1)
    # Friday 16:30 Berlin + 2 h of business time → Monday 10:30 Berlin
    friday = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    assert BERLIN.add(friday, 7200) == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    # before opening: the clock starts at 09:00
    assert BERLIN.add(datetime(2026, 12, 1, 5, 0, tzinfo=UTC), 60) == datetime(2026, 12, 1, 8, 1, tzinfo=UTC)
    around = sla.BusinessHours("UTC", {"sun": [(time(0), time(0))]})  # 00:00–24:00 on Sundays
    assert around.add(datetime(2026, 12, 6, 23, 0, tzinfo=UTC), 7200) == datetime(2026, 12, 13, 1, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        sla.BusinessHours("UTC", {}).add(MONDAY_8_UTC, 1)


def test_the_most_specific_policy_applies():
    default = sla.Policy("d", "default", first_response_seconds=7200, created_at=MONDAY_8_UTC)
    high = sla.Policy("h", "high", first_response_seconds=600, applies_to={"priority": "high"}, created_at=MONDAY_8_UTC)
    vip = sla.Policy("v", "vip", first_response_seconds=60, applies_to={"tag": "vip"}, created_at=MONDAY_8_UTC)
    assert sla.choose([default, high, vip], "none", []) is default
    assert sla.choose([default, high, vip], "high", []) is high
    assert sla.choose([default, high, vip], "high", ["vip"]) is vip
    assert sla.choose([high, vip], "low", []) is None


def test_deadlines_follow_the_facts_and_fire_once():
    p = sla.Policy("p", "p", first_response_seconds=7200, next_response_seconds=600, resolution_seconds=86400,
                   warning_before_seconds=900)
    waiting = sla.Facts("open", MONDAY_8_UTC, None, MONDAY_8_UTC)
    d = sla.deadlines(p, waiting)
    assert d.first_response == MONDAY_8_UTC + timedelta(hours=2) and d.next_response is None
    assert d.resolution == MONDAY_8_UTC + timedelta(days=1)
    assert sla.next_check(p, d, set()) == d.first_response - timedelta(minutes=15)
    at = d.first_response - timedelta(minutes=10)
    assert sla.due_now(p, d, set(), at) == [("first_response", "warning", d.first_response)]
    fired = {sla.marker("first_response", "warning", d.first_response)}
    assert sla.due_now(p, d, fired, at) == []
    assert sla.next_check(p, d, fired) == d.first_response
    replied = sla.Facts("open", MONDAY_8_UTC + timedelta(hours=3), MONDAY_8_UTC + timedelta(hours=1), MONDAY_8_UTC)
    assert sla.deadlines(p, replied).next_response == MONDAY_8_UTC + timedelta(hours=3, minutes=10)
    assert sla.deadlines(p, sla.Facts("resolved", None, None, None)).pending() == {}
    assert sla.status(True, sla.Deadlines(), False, at) == "hit"
    assert sla.status(True, d, False, at) == "active"
    assert sla.status(True, d, False, d.first_response) == "missed"


def test_a_breach_is_recorded_once_and_escalates_one_level():
    app = memory_application(ConversationsApp)
    item = NewConversation("org", "s1", "+4915112345678", None, MONDAY_8_UTC)
    due = MONDAY_8_UTC + timedelta(hours=2)
    m = sla.marker("first_response", "breached", due)

    def breach(c):
        c.set_priority("medium", {"type": "user", "id": "u"}, MONDAY_8_UTC)
        c.sla_due("p", "first_response", "breached", due, m, due, raise_priority=True, team_id="t1")
        c.sla_due("p", "first_response", "breached", due, m, due, raise_priority=True, team_id="t1")

    c = app.change(item, breach).conversation
    assert (c.priority, c.team_id, c.sla_fired) == ("high", "t1", [m])
