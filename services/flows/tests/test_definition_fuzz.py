"""Any JSON at all given as a flow definition is either a definition or a DefinitionInvalid listing
problems — never another exception (which the API would answer with a 500)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard_flows.domain.definition import DefinitionInvalid, parse_definition

from .test_executor import EXAMPLE

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                      max_size=4), max_leaves=12)
KEYS = ["name", "trigger", "priority", "nodes", "edges", "description", "ui"]
NODE_KEYS = ["id", "type", "message", "rules", "seconds", "timeout_seconds", "url", "method", "headers", "body",
             "to", "subject", "variables", "name", "value", "team_id", "note", "sender_id", "retries"]


def shaped_node():
    return st.dictionaries(st.sampled_from(NODE_KEYS), json_values | st.sampled_from(
        ["start", "end", "message", "condition", "delay", "wait_for_reply", "http", "email", "set_variable",
         "handoff"]), max_size=5)


def shaped_edge():
    return st.dictionaries(st.sampled_from(["from", "to", "exit"]), json_values | st.sampled_from(
        ["start", "ask", "wait", "end", "sent", "failed", "reply", "else"]), max_size=3)


definitions = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=7) | st.fixed_dictionaries(
    {"name": json_values | st.text(max_size=5), "trigger": json_values | st.fixed_dictionaries(
        {"type": json_values | st.sampled_from(["keyword", "any_message", "event", "api"]),
         "keywords": json_values, "match": json_values, "sender_ids": json_values}),
     "nodes": st.lists(shaped_node(), max_size=5) | json_values, "edges": st.lists(shaped_edge(), max_size=5)})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions)
def test_any_json_is_a_definition_or_its_problems(body):
    try:
        parse_definition(body)
    except DefinitionInvalid as exc:
        assert exc.problems and all(isinstance(p.message, str) for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(range(len(EXAMPLE["nodes"]))), st.sampled_from(NODE_KEYS), json_values)
def test_the_example_with_any_one_setting_changed_is_checked_not_crashed(index, key, value):
    body = {**EXAMPLE, "nodes": [dict(n) for n in EXAMPLE["nodes"]]}
    body["nodes"][index][key] = value
    try:
        parse_definition(body)
    except DefinitionInvalid as exc:
        assert exc.problems
