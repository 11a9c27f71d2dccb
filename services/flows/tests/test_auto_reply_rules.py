"""Auto-reply rules in memory: business hours in their time zone (outside / inside), keyword filters,
senders, the message kinds never answered, the more specific rule first, and bad rules refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from switchboard_flows.domain.auto_reply import AutoReplyRule, first_answering
from switchboard_flows.domain.business_hours import BusinessHours

TEXT = {"type": "text", "text": "Hi {{contact.name|there}}, we are closed."}
HOURS = {"timezone": "America/Sao_Paulo", "hours": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "12:00"],
                                                                                        ["13:00", "18:00"]]}}
MONDAY_NOON_SP = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo (UTC-3)
MONDAY_NIGHT_SP = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Monday 22:30 in São Paulo
TUESDAY_LUNCH_SP = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 12:30, between the two intervals


def test_business_hours_are_read_in_their_time_zone():
    hours = BusinessHours.model_validate(HOURS)
    assert hours.open_at(MONDAY_NOON_SP) and not hours.open_at(MONDAY_NIGHT_SP)
    assert not hours.open_at(TUESDAY_LUNCH_SP)
    assert not hours.open_at(datetime(2026, 12, 6, 15, 0, tzinfo=UTC))  # Sunday: not listed, closed
    closed = AutoReplyRule.model_validate({"message": TEXT, "business_hours": HOURS})
    assert closed.answers("s", "text", "hello", MONDAY_NIGHT_SP)
    assert not closed.answers("s", "text", "hello", MONDAY_NOON_SP)
    open_only = AutoReplyRule.model_validate({"message": TEXT, "business_hours": {**HOURS, "mode": "inside"}})
    assert open_only.answers("s", "text", "hello", MONDAY_NOON_SP)
    assert not open_only.answers("s", "text", "hello", MONDAY_NIGHT_SP)


def test_keywords_senders_and_message_kinds():
    rule = AutoReplyRule.model_validate({"message": TEXT, "sender_ids": ["a"],
                                         "keywords": {"keywords": ["preço", "price"], "match": "contains"}})
    assert rule.answers("a", "text", "Qual o PRECO?", MONDAY_NOON_SP)  # accents and case folded
    assert not rule.answers("b", "text", "price?", MONDAY_NOON_SP)
    assert not rule.answers("a", "text", "hello", MONDAY_NOON_SP)
    anything = AutoReplyRule.model_validate({"message": TEXT})
    assert anything.answers("b", "image", None, MONDAY_NOON_SP)
    assert not anything.answers("b", "reaction", "👍", MONDAY_NOON_SP)
    assert not AutoReplyRule.model_validate({"message": TEXT, "active": False}).answers("b", "text", "x", MONDAY_NOON_SP)
    assert first_answering([("general", anything), ("priced", rule)], "a", "text", "price", MONDAY_NOON_SP)[0] == "priced"
    assert first_answering([("general", anything), ("priced", rule)], "a", "text", "hi", MONDAY_NOON_SP)[0] == "general"
    assert anything.reply("+4915100000001", None, "hi") == {"type": "text", "text": "Hi there, we are closed."}


@pytest.mark.parametrize("body, field", [
    ({"message": {"type": "text", "text": "Hi {{contact.nam"}}, "message"),
    ({"message": {"type": "text", "text": "ok"}, "delay_ms": -1}, "delay_ms"),
    ({"message": {"type": "text", "text": "ok"}, "business_hours": {"timezone": "Mars/Olympus", "hours": {}}},
     "business_hours"),
    ({"message": {"type": "text", "text": "ok"}, "business_hours": {"timezone": "UTC", "hours": {"mon": [["18:00", "09:00"]]}}},
     "business_hours"),
    ({"message": {"type": "text", "text": "ok"}, "keywords": {"keywords": ["(unclosed"], "match": "regex"}}, ""),
    ({"message": {"type": "image"}}, "message"),
    ({"message": {"type": "text", "text": "ok"}, "cooldown": 5}, "cooldown"),
])
def test_bad_rules_are_refused_naming_the_field(body, field):
    with pytest.raises(ValidationError) as error:
        AutoReplyRule.model_validate(body)
    assert field in str(error.value)
