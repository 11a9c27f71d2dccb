"""Condition rules and triggers at run time: every op, case and accents ignored, numbers compared
as numbers, missing values, keyword / any_message / event triggers with their senders, and regexes
that stay fast on input built to make backtracking engines explode."""

from __future__ import annotations

import time

import pytest

from switchboard_flows.domain.conditions import choose_exit, compare, condition_matches
from switchboard_flows.domain.context import Context
from switchboard_flows.domain.nodes import Condition
from switchboard_flows.domain.text_match import MAX_MATCH_CHARS, compile_regex, text_matches
from switchboard_flows.domain.triggers import (
    AnyMessageTrigger, ApiTrigger, EventTrigger, KeywordTrigger, event_matches, inbound_matches, keyword_matches,
    parse_trigger,
)
from switchboard_flows.domain.definition import parse_definition

CONTEXT = Context(contact={"name": "José", "phone": "+5511999990000"},
                  flow={"message": "  Sim, Quero  o  PEDIDO ", "reply_id": "btn_yes",
                        "data": {"order": {"total": "10.50", "items": [{"id": 7}]}, "flag": True},
                        "http": {"lookup": {"status": 200, "body": "{}", "json": {"count": 3}}}},
                  vars={"answer": "São Paulo", "empty": "  ", "n": "9"})


def matches(field, op, value=None) -> bool:
    pattern = compile_regex(value) if op == "regex" else None
    return condition_matches(Condition(field, op, tuple(value) if op == "one_of" else value, pattern), CONTEXT)


@pytest.mark.parametrize("field, op, value, expected", [
    ("flow.message", "equals", "sim, quero o pedido", True),  # case, surrounding and repeated spaces
    ("flow.message", "equals", "sim", False),
    ("flow.message", "contains", "QUERO", True),
    ("flow.message", "contains", "nao", False),
    ("flow.message", "starts_with", "sim", True),
    ("flow.message", "starts_with", "quero", False),
    ("vars.answer", "equals", "sao paulo", True),  # accents ignored on the text ...
    ("vars.answer", "equals", "SÃO PAULO", True),  # ... and on the value
    ("contact.name", "contains", "jose", True),
    ("vars.answer", "one_of", ["rio", "são paulo"], True),
    ("vars.answer", "one_of", ["rio", "recife"], False),
    ("flow.message", "regex", r"^\s*sim\b", True),
    ("flow.message", "regex", r"pedido\s*$", True),
    ("flow.message", "regex", r"^pedido", False),
    ("vars.answer", "regex", "s[aã]o", True),
    ("flow.reply_id", "equals", "btn_yes", True),
    ("flow.http.lookup.json.count", "==", 3, True),
    ("flow.http.lookup.json.count", "==", "3.0", True),  # numbers as numbers
    ("flow.http.lookup.status", "<", 300, True),
    ("flow.http.lookup.status", ">", "99", True),  # "99" < 200 as numbers (as text it would be greater)
    ("vars.n", "<", 10, True),  # "9" < 10 as numbers, though "9" > "10" as text
    ("vars.n", ">", "10", False),
    ("flow.data.order.total", ">", 10, True),
    ("flow.data.order.items.0.id", "==", "7", True),
    ("flow.data.order.items.5.id", "==", "7", False),
    ("vars.answer", "==", "São Paulo", True),
    ("vars.answer", "==", "sao paulo", False),  # value ops compare the exact text
    ("vars.answer", "!=", "Rio", True),
    ("vars.answer", ">", "Rio", True),  # text order when either side is no number
    ("flow.data.flag", "==", True, True),
    ("flow.data.flag", "==", "true", True),
    ("flow.data.flag", "==", 1, False),  # a boolean is not a number
    ("flow.message", "exists", None, True),
    ("vars.empty", "exists", None, False),  # blank counts as not there
    ("vars.missing", "exists", None, False),
    ("vars.missing", "==", "x", False),
    ("vars.missing", "!=", "x", True),  # a missing value differs from anything
    ("vars.missing", "<", 1, False),
    ("vars.missing", "contains", "x", False),
])
def test_condition_ops(field, op, value, expected):
    assert matches(field, op, value) is expected


def test_numbers_that_are_not_plain_numbers_compare_as_text():
    assert compare("<", "10", "9") is False and compare("<", "10", "9a") is True
    assert compare("==", "nan", "nan") is True and compare("==", 1e20, "100000000000000000000") is True
    assert compare(">", "1e3", 999) is True and compare("==", "0x10", 16) is False


def test_choose_exit_takes_the_first_matching_rule_else_else():
    rules = [
        {"exit": "no", "if": {"field": "flow.message", "op": "contains", "value": "não"}},
        {"exit": "yes", "if": {"field": "flow.message", "op": "one_of", "value": ["sim", "yes", "s"]}},
        {"exit": "button", "if": {"field": "flow.reply_id", "op": "equals", "value": "btn_yes"}},
        {"exit": "also_yes", "if": {"field": "flow.message", "op": "regex", "value": "^y"}},
    ]
    body = {"name": "route", "trigger": {"type": "api"},
            "nodes": [{"id": "start", "type": "start"}, {"id": "wait", "type": "wait_for_reply"},
                      {"id": "route", "type": "condition", "rules": rules}, {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "route", "exit": "reply"},
                      {"from": "wait", "to": "end", "exit": "timeout"},
                      *({"from": "route", "to": "end", "exit": e} for e in ("no", "yes", "button", "also_yes", "else"))]}
    route = parse_definition(body).nodes["route"]
    assert route.exits == ("no", "yes", "button", "also_yes", "else")
    ask = lambda message, reply_id=None: choose_exit(route, {"flow": {"message": message, "reply_id": reply_id}})  # noqa: E731
    assert ask("NÃO quero") == "no" and ask("Nao") == "no"
    assert ask(" Sim ") == "yes"
    assert ask("Yes please", "btn_yes") == "button"
    assert ask("yes please") == "also_yes"
    assert ask("maybe") == "else" and ask(None) == "else"


def test_catastrophic_backtracking_patterns_finish_fast():
    started = time.perf_counter()
    pattern = compile_regex("(a+)+$")
    assert not text_matches("regex", "a" * 4000 + "!", "(a+)+$", pattern)  # Python's re: longer than the universe
    assert text_matches("regex", "a" * 100_000 + "!", "(a+)+$", pattern)  # only the first 4096 are matched
    assert not text_matches("regex", "a" * 4000 + "!", "(a|aa)*$x", compile_regex("(a|aa)*$x"))
    trigger = KeywordTrigger(keywords=("(x+x+)+y",), match="regex", patterns=(compile_regex("(x+x+)+y"),))
    assert not keyword_matches(trigger, "x" * 50_000)
    assert time.perf_counter() - started < 1.0


def test_only_the_first_4096_characters_are_matched():
    text = "a" * MAX_MATCH_CHARS + "needle"
    assert not text_matches("contains", text, "needle")
    assert not text_matches("regex", text, "needle", compile_regex("needle"))
    assert text_matches("contains", text[6:], "needle")


# --- triggers ------------------------------------------------------------------------------------

def trigger(raw):
    parsed, problems = parse_trigger(raw)
    assert problems == [] and parsed is not None
    assert parse_trigger(parsed.as_json())[0] == parsed  # as_json parses back
    return parsed


@pytest.mark.parametrize("match, keyword, text, expected", [
    ("equals", "status", "  STATUS ", True),
    ("equals", "status", "my status", False),
    ("equals", "promoção", "PROMOCAO", True),
    ("contains", "status", "What's my Status?", True),
    ("contains", "pedido", "pedidos", True),  # a substring, not a whole word
    ("contains", "status", "state", False),
    ("starts_with", "oi", "Oi, tudo bem?", True),
    ("starts_with", "oi", "e aí, oi", False),
    ("regex", r"^(order|pedido)\s*#?\d+$", "Pedido #123", True),
    ("regex", r"^(order|pedido)\s*#?\d+$", "pedido abc", False),
    ("regex", "ação", "ACAO", True),
])
def test_keyword_triggers(match, keyword, text, expected):
    t = trigger({"type": "keyword", "keywords": ["other", keyword], "match": match})
    assert keyword_matches(t, text) is expected


def test_keyword_match_defaults_to_equals_and_ignores_no_text():
    t = trigger({"type": "keyword", "keywords": ["menu"]})
    assert t.match == "equals"
    assert keyword_matches(t, "Menu") and not keyword_matches(t, "the menu")
    assert not keyword_matches(t, None) and not keyword_matches(t, "")
    assert not keyword_matches(trigger({"type": "any_message"}), "menu")


def test_inbound_triggers_and_their_senders():
    keyword = trigger({"type": "keyword", "keywords": ["hi"], "sender_ids": ["s1", "s2"]})
    assert inbound_matches(keyword, "s1", "hi") and not inbound_matches(keyword, "s3", "hi")
    assert not inbound_matches(keyword, "s1", "bye")
    anything = trigger({"type": "any_message"})
    assert isinstance(anything, AnyMessageTrigger) and anything.sender_ids is None
    assert inbound_matches(anything, "any-sender", None)  # media without text too
    assert not inbound_matches(trigger({"type": "api"}), "s1", "hi")
    assert isinstance(trigger({"type": "api"}), ApiTrigger)


def test_event_triggers_match_type_filter_and_senders():
    t = trigger({"type": "event", "event_type": "switchboard.message.status.v1",
                 "filter": {"status": ["failed", "undelivered"], "error.code": 131049}})
    assert isinstance(t, EventTrigger)
    failed = {"message_id": "m1", "status": "failed", "error": {"code": "131049"}, "sender_id": "s1"}
    assert event_matches(t, "switchboard.message.status.v1", failed)
    assert not event_matches(t, "switchboard.message.received.v1", failed)
    assert not event_matches(t, "switchboard.message.status.v1", {**failed, "status": "read"})
    assert not event_matches(t, "switchboard.message.status.v1", {**failed, "error": {"code": 1}})
    assert not event_matches(t, "switchboard.message.status.v1", {"status": "failed"})  # no error.code
    senders = trigger({"type": "event", "event_type": "switchboard.sender.disconnected.v1", "sender_ids": ["s1"]})
    assert event_matches(senders, "switchboard.sender.disconnected.v1", {"sender_id": "s1"})
    assert not event_matches(senders, "switchboard.sender.disconnected.v1", {"sender_id": "s2"})
    assert not event_matches(senders, "switchboard.sender.disconnected.v1", {})
    nulls = trigger({"type": "event", "event_type": "switchboard.message.received.v1", "filter": {"text": None}})
    assert event_matches(nulls, "switchboard.message.received.v1", {"type": "image"})
    assert not keyword_matches(t, "failed") and not event_matches(trigger({"type": "api"}), "x", {})
