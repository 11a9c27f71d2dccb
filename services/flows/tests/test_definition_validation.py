"""Flow definitions: the issue's example parses and round-trips, and each kind of problem is
reported (naming its node, or None for the flow as a whole), all of them at once."""

from __future__ import annotations

import copy

import pytest

from switchboard_flows.domain.definition import MAX_NODES, DefinitionInvalid, Problem, parse_definition
from switchboard_flows.domain.nodes import ConditionNode, DelayNode, HttpNode, MessageNode, SetVariableNode, WaitNode
from switchboard_flows.domain.triggers import KeywordTrigger

from .test_executor import EXAMPLE  # the issue's example flow, one copy for every test


def flow(**changes):
    body = copy.deepcopy(EXAMPLE)
    body.update(changes)
    return body


def node(body, node_id):
    return next(n for n in body["nodes"] if n["id"] == node_id)


def problems(body) -> list[Problem]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(body)
    assert all(isinstance(p, Problem) for p in caught.value.problems)
    return caught.value.problems


def only(body, node_id, *words) -> Problem:
    """The one problem of `body`, about `node_id`, whose message holds every word."""
    found = problems(body)
    assert len(found) == 1, found
    assert found[0].node == node_id, found
    for word in words:
        assert word in found[0].message, found
    assert found[0].message.endswith("."), found
    return found[0]


# --- a valid flow --------------------------------------------------------------------------------

def test_the_example_parses_and_its_edges_answer_next():
    d = parse_definition(EXAMPLE)
    assert (d.name, d.priority, d.start) == ("order status", 0, "start")
    assert isinstance(d.trigger, KeywordTrigger) and d.trigger.keywords == ("status",)
    assert isinstance(d.nodes["ask"], MessageNode) and d.nodes["ask"].message["text"].startswith("Hi {{")
    assert isinstance(d.nodes["route"], ConditionNode) and d.nodes["route"].exits == ("yes", "else")
    assert d.nodes["pause"] == DelayNode(id="pause", seconds=2) and d.nodes["wait"].timeout_seconds == 3600
    assert d.next("start") == "ask" and d.next("ask", "sent") == "wait" and d.next("ask", "failed") == "end"
    assert d.next("route", "else") == "bye" and d.next("pause") == "thanks"
    assert d.next("end") is None and d.next("ask", "nope") is None


def test_as_json_is_normalized_and_parses_back_to_the_same_definition():
    body = flow(nodes=[*EXAMPLE["nodes"][:2], {"id": "wait", "type": "wait_for_reply", "position": {"x": 1, "y": 2}},
                       *EXAMPLE["nodes"][3:]])
    d = parse_definition(body)
    stored = d.as_json()
    assert stored["priority"] == 0
    assert node(stored, "wait") == {"id": "wait", "type": "wait_for_reply", "timeout_seconds": 3600,
                                    "position": {"x": 1, "y": 2}}  # the default filled, the editor's key kept
    assert stored["edges"][0] == {"from": "start", "to": "ask"}
    assert parse_definition(stored) == d
    assert parse_definition(stored).as_json() == stored


def test_every_node_type_with_its_settings_and_defaults():
    body = flow(priority=5)
    body["nodes"][4:5] = [
        {"id": "pause", "type": "http", "url": "https://api.example/{{flow.data.order}}", "method": "POST",
         "headers": {"X-Key": "{{vars.key|none}}"}, "body": {"q": ["{{flow.message}}", 1]}},
        {"id": "store", "type": "set_variable", "name": "code", "value": 7},
        {"id": "mail", "type": "email", "to": "ops@example.com", "subject": "Order {{flow.http.pause.json.id}}",
         "body": "{{flow.http.pause.body}}"},
        {"id": "human", "type": "handoff", "team_id": "support", "note": "asked about {{vars.code}}"},
    ]
    body["edges"][7] = {"from": "pause", "to": "store", "exit": "success"}
    body["edges"] += [{"from": "pause", "to": "human", "exit": "failure"}, {"from": "store", "to": "mail"},
                      {"from": "mail", "to": "thanks", "exit": "sent"}, {"from": "mail", "to": "thanks", "exit": "failed"}]
    d = parse_definition(body)
    assert d.priority == 5
    http = d.nodes["pause"]
    assert isinstance(http, HttpNode)
    assert (http.method, http.timeout_seconds, http.retries, http.headers) == ("POST", 10, 2, {"X-Key": "{{vars.key|none}}"})
    assert isinstance(d.nodes["store"], SetVariableNode) and d.nodes["store"].variables == {"code": "7"}
    assert node(d.as_json(), "store") == {"id": "store", "type": "set_variable", "variables": {"code": "7"}}
    assert d.nodes["human"].team_id == "support" and d.nodes["human"].exits == ()
    assert d.next("store") == "mail" and d.next("pause", "failure") == "human"


def test_other_message_types_are_checked_with_the_platform_models():
    body = flow()
    node(body, "thanks")["message"] = {"type": "image", "media": {"link": "https://cdn.example/{{vars.sku}}.jpg",
                                                                 "caption": "For {{contact.name}}"}}
    node(body, "bye")["message"] = {"type": "template", "template": {"name": "bye", "language": "en_US", "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "{{contact.name|friend}}"}]}]}}
    node(body, "ask")["sender_id"] = "s-1"
    d = parse_definition(body)
    assert d.nodes["ask"].sender_id == "s-1"


# --- one test per kind of problem ----------------------------------------------------------------

def test_no_start_node():
    body = flow()
    node(body, "start")["type"] = "end"
    found = problems(body)
    assert Problem(None, "the flow has no start node; add exactly one node of type start.") in found


def test_two_start_nodes():
    body = flow()
    body["nodes"].append({"id": "start2", "type": "start"})
    body["edges"].append({"from": "start2", "to": "end"})
    only(body, None, "2 start nodes (start, start2)", "exactly one")


def test_node_ids_must_be_unique():
    body = flow()
    body["nodes"].append({"id": "bye", "type": "end"})
    only(body, "bye", "more than one node has the id 'bye'")


@pytest.mark.parametrize("bad_id", ["", "   ", None, 7])
def test_node_ids_must_be_non_empty_text(bad_id):
    body = flow()
    body["nodes"].append({"id": bad_id, "type": "end"})
    only(body, None, "node #9 needs an `id`")


def test_unknown_node_type():
    body = flow()
    node(body, "pause")["type"] = "sleep"
    only(body, "pause", "'sleep'", "delay, wait_for_reply")


def test_an_edge_to_a_missing_node_names_its_source_and_the_missing_id():
    body = flow()
    body["edges"][0]["to"] = "nowhere"
    found = problems(body)
    assert Problem("start", "the edge from 'start' goes to 'nowhere', but the flow has no node 'nowhere'.") in found


def test_an_edge_from_a_missing_node_names_the_missing_id():
    body = flow()
    body["edges"].append({"from": "ghost", "to": "end"})
    only(body, "ghost", "an edge leaves 'ghost', but the flow has no node 'ghost'")


def test_an_exit_the_source_does_not_have():
    body = flow()
    body["edges"].append({"from": "ask", "to": "end", "exit": "read"})
    only(body, "ask", "no exit 'read'", "its exits are sent, failed")


def test_a_branching_node_needs_the_exit_named_on_its_edges():
    body = flow()
    del body["edges"][2]["exit"]  # ask → end, no exit
    found = problems(body)
    assert any(p.node == "ask" and "needs an `exit`" in p.message for p in found)
    assert any(p.node == "ask" and "no edge for its exit 'failed'" in p.message for p in found)


def test_a_single_exit_node_takes_no_exit_name():
    body = flow()
    body["edges"][7]["exit"] = "next"  # pause → thanks
    found = problems(body)
    assert any(p.node == "pause" and "leave `exit` out" in p.message for p in found)


def test_at_most_one_edge_per_exit():
    body = flow()
    body["edges"].append({"from": "route", "to": "end", "exit": "yes"})
    only(body, "route", "more than one edge for its exit 'yes'", "'pause' and 'end'")


def test_a_branching_exit_that_goes_nowhere():
    body = flow()
    body["edges"] = [e for e in body["edges"] if e.get("exit") != "timeout"]
    only(body, "wait", "no edge for its exit 'timeout'")


def test_a_single_exit_node_that_leads_nowhere():
    body = flow()
    body["edges"] = [e for e in body["edges"] if e["from"] != "pause"]
    found = problems(body)
    assert any(p.node == "pause" and "leads nowhere" in p.message for p in found)


def test_an_end_node_has_no_edges_out():
    body = flow()
    body["edges"].append({"from": "end", "to": "ask"})
    only(body, "end", "ends the flow", "remove its edge to 'ask'")


def test_nothing_leads_back_to_start():
    body = flow()
    body["edges"][2]["to"] = "start"  # ask --failed--> start
    found = problems(body)
    assert Problem("ask", "the edge from 'ask' goes into the start node 'start'; nothing may lead back to the start.") in found


def test_unreachable_nodes():
    body = flow()
    body["nodes"].append({"id": "orphan", "type": "end"})
    only(body, "orphan", "cannot be reached from the start node")


def test_a_loop_that_never_waits():
    body = flow()
    body["edges"][10]["to"] = "route"  # bye --sent--> route: route → bye → route with no wait between
    found = problems(body)
    assert any("loop that never waits" in p.message and "'route'" in p.message and "'bye'" in p.message for p in found)
    body = flow()
    body["edges"][10]["to"] = "wait"  # a loop through wait_for_reply is a menu: fine
    parse_definition(body)


def test_at_most_2000_nodes():
    body = flow()
    extra = [{"id": f"n{i}", "type": "delay", "seconds": 1} for i in range(MAX_NODES - len(body["nodes"]))]
    body["nodes"][-1:-1] = extra
    chain = ["pause", *(n["id"] for n in extra)]
    body["edges"][7] = {"from": chain[-1], "to": "thanks"}
    body["edges"] += [{"from": a, "to": b} for a, b in zip(chain, chain[1:])]
    assert len(parse_definition(body).nodes) == MAX_NODES
    body["nodes"].append({"id": "one_too_many", "type": "delay", "seconds": 1})
    body["edges"].append({"from": "one_too_many", "to": "end"})
    found = problems(body)
    assert Problem(None, "the flow has 2001 nodes; at most 2000 are allowed.") in found


@pytest.mark.parametrize("settings, words", [
    ({"type": "delay", "seconds": 0}, "`seconds` must be a whole number from 1 to 2592000"),
    ({"type": "delay", "seconds": 30 * 86_400 + 1}, "from 1 to 2592000"),
    ({"type": "delay", "seconds": "2"}, "not '2'"),
    ({"type": "delay", "seconds": True}, "not True"),
    ({"type": "delay"}, "a delay node needs `seconds`"),
    ({"type": "delay", "seconds": 2, "minutes": 1},
     "`minutes` is not a setting of a delay node; it takes `seconds`, `until`"),
    ({"type": "delay", "seconds": 2, "until": "2026-12-24T18:00:00Z"}, "takes `seconds` or `until`, not both"),
    ({"type": "delay", "until": "tomorrow"}, "`until` must be a time with its UTC offset"),
    ({"type": "delay", "until": "2026-12-24T18:00:00"}, "`until` must be a time with its UTC offset"),
    ({"type": "delay", "until": 1767000000}, "`until` must be a non-empty text"),
    ({"type": "delay", "until": "{{order.at}}"}, "`until`: {{order.at}}"),
])
def test_delay_settings(settings, words):
    body = flow()
    node(body, "pause").update(settings)
    node(body, "pause").pop("seconds", None) if "seconds" not in settings else None
    only(body, "pause", words)


@pytest.mark.parametrize("until", ["2026-12-24T18:00:00Z", "2026-12-24T18:00:00+02:00", "{{flow.data.remind_at}}",
                                   "{{vars.when|2026-12-24T18:00:00Z}}"])
def test_a_delay_until_a_time_or_a_placeholder_is_valid(until):
    body = flow()
    node(body, "pause").pop("seconds")
    node(body, "pause")["until"] = until
    assert parse_definition(body).nodes["pause"] == DelayNode(id="pause", until=until)


@pytest.mark.parametrize("timeout, ok", [(1, True), (7 * 86_400, True), (7 * 86_400 + 1, False), (0, False), (1.5, False)])
def test_wait_timeout_range(timeout, ok):
    body = flow()
    node(body, "wait")["timeout_seconds"] = timeout
    if ok:
        assert parse_definition(body).nodes["wait"] == WaitNode(id="wait", timeout_seconds=timeout)
    else:
        only(body, "wait", "`timeout_seconds` must be a whole number from 1 to 604800 (7 days)")


@pytest.mark.parametrize("settings, words", [
    ({"url": "ftp://example.com"}, "must start with http:// or https://"),
    ({"url": "{{vars.base}}/x"}, "must start with http:// or https://"),
    ({"method": "FETCH"}, "`method` must be one of GET, POST, PUT, PATCH, DELETE"),
    ({"timeout_seconds": 31}, "`timeout_seconds` must be a whole number from 1 to 30"),
    ({"retries": 6}, "`retries` must be a whole number from 0 to 5"),
    ({"headers": {"Bad Name": "x"}}, "not a valid header name"),
    ({"headers": {"X-A": 1}}, "`headers.X-A` must be a text"),
    ({"body": {"a": ["{{flow.nothing}}"]}}, "`body.a[0]`: {{flow.nothing}} is not a flow field"),
])
def test_http_settings(settings, words):
    body = flow()
    target = node(body, "pause")
    target.clear()
    target.update({"id": "pause", "type": "http", "url": "https://api.example/x", **settings})
    body["edges"][7] = {"from": "pause", "to": "thanks", "exit": "success"}
    body["edges"].append({"from": "pause", "to": "bye", "exit": "failure"})
    only(body, "pause", words)


@pytest.mark.parametrize("message, words", [
    ({"type": "text", "text": "x" * 4097}, "`message.text`: String should have at most 4096 characters"),
    ({"type": "text", "text": ""}, "`message.text`: required for a text message"),
    ({"type": "image", "text": "hi"}, "`message.text`: not allowed for an image message"),
    ({"type": "audio", "media": {"link": "https://x/a.ogg", "caption": "c"}}, "takes no caption"),
    ({"type": "text", "text": "hi", "to": "+1"}, "`message.to`"),
    ({"type": "fax", "text": "hi"}, "`message.type`"),
    ({"type": "template", "template": {"name": "Bad Name", "language": "en"}}, "`message.template.name`"),
    ({"type": "text", "text": "Hi {{contact.name"}, "`message.text`: position 3 (line 1, column 4): unclosed placeholder"),
    ({"type": "text", "text": "Hi {{contact.email}}"}, "{{contact.email}} is not a contact field"),
    ({"type": "text", "text": "Hi {{customer.name}}"}, "starts with 'customer'"),
    ({"type": "text", "text": "{{flow.http.nope.status}}"}, "names 'nope', which is not an http node"),
    ({"type": "text", "text": "{{flow.http.pause.json}}"}, "names 'pause', which is not an http node"),
    ({"type": "template", "template": {"name": "t", "language": "en", "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "{{vars.a b}}"}]}]}},
     "`message.template.components[0].parameters[0].text`: position 0"),
])
def test_message_content(message, words):
    body = flow()
    node(body, "thanks")["message"] = message
    found = problems(body)
    assert any(p.node == "thanks" and words in p.message for p in found), found


def test_a_message_node_needs_a_message():
    body = flow()
    del node(body, "thanks")["message"]
    only(body, "thanks", "a message node needs `message`")


@pytest.mark.parametrize("rules, words", [
    ([], "needs `rules`"),
    ([{"exit": "else", "if": {"field": "flow.message", "op": "exists"}}], "other than \"else\""),
    ([{"exit": "yes", "if": {"field": "flow.message", "op": "exists"}},
      {"exit": "yes", "if": {"field": "vars.x", "op": "exists"}}], "already used by an earlier rule"),
    ([{"exit": "yes", "if": {"field": "flow.message", "op": "like", "value": "a"}}], "`rules[0].if.op` must be one of"),
    ([{"exit": "yes", "if": {"field": "flow.mesage", "op": "exists"}}], "flow.mesage is not a flow field"),
    ([{"exit": "yes", "if": {"field": "flow.message", "op": "exists", "value": 1}}], "exists takes no `value`"),
    ([{"exit": "yes", "if": {"field": "flow.message", "op": "one_of", "value": "a"}}], "a list of 1 to 100 texts"),
    ([{"exit": "yes", "if": {"field": "flow.message", "op": "contains", "value": 3}}], "a non-empty text"),
    ([{"exit": "yes", "if": {"field": "flow.message", "op": "==", "value": [1]}}], "a text, a number or true/false"),
    ([{"exit": "yes", "if": {"field": "flow.message", "op": "regex", "value": "(a)\\1"}}], "not a valid RE2 regular expression"),
    ([{"exit": "yes", "if": {"field": "flow.message", "op": "regex", "value": "(?<=a)b"}}], "not a valid RE2 regular expression"),
    ([{"exit": "yes", "when": {}}], "must be an object with `exit` and `if`"),
])
def test_condition_rules(rules, words):
    body = flow()
    node(body, "route")["rules"] = rules
    found = problems(body)
    assert any(p.node == "route" and words in p.message for p in found), found


@pytest.mark.parametrize("settings, words", [
    ({"variables": {"bad-name": "x"}}, "'bad-name' is not a variable name"),
    ({"variables": {}}, "needs `variables`"),
    ({"variables": {"a": {"nested": 1}}}, "must be a text (placeholders allowed) or a number"),
    ({"variables": {"a": "{{vars}}"}}, "{{vars}} is not a variable"),
    ({"name": "a"}, "needs a `name` (a text) and a `value`"),
])
def test_set_variable_settings(settings, words):
    body = flow()
    target = node(body, "pause")
    target.clear()
    target.update({"id": "pause", "type": "set_variable", **settings})
    only(body, "pause", words)


@pytest.mark.parametrize("settings, words", [
    ({"to": "not an address"}, "is not an e-mail address"),
    ({"subject": ""}, "`subject` must be a non-empty text"),
    ({"body": "{{flow.data}} and {{oops}}"}, "{{oops}} starts with 'oops'"),
])
def test_email_settings(settings, words):
    body = flow()
    target = node(body, "pause")
    target.clear()
    target.update({"id": "pause", "type": "email", "to": "a@b.co", "subject": "s", "body": "b", **settings})
    body["edges"][7] = {"from": "pause", "to": "thanks", "exit": "sent"}
    body["edges"].append({"from": "pause", "to": "bye", "exit": "failed"})
    only(body, "pause", words)


def test_handoff_note_is_templated_and_handoff_ends_the_flow():
    body = flow()
    node(body, "end").update({"type": "handoff", "note": "{{flow.messag}}"})
    only(body, "end", "`note`: {{flow.messag}} is not a flow field")


@pytest.mark.parametrize("changes, words", [
    ({"name": ""}, "a flow needs a `name`"),
    ({"priority": "high"}, "`priority` must be a whole number"),
    ({"trigger": None}, "trigger: a flow needs a `trigger` whose `type` is one of keyword, any_message, event, api"),
    ({"trigger": {"type": "keyword", "keywords": []}}, "trigger: `keywords` must list 1 to 100"),
    ({"trigger": {"type": "keyword", "keywords": ["x"] * 101}}, "trigger: `keywords` must list 1 to 100"),
    ({"trigger": {"type": "keyword", "keywords": ["a"], "match": "fuzzy"}}, "trigger: `match` must be one of equals"),
    ({"trigger": {"type": "keyword", "keywords": ["(a"], "match": "regex"}}, "trigger: the keyword '(a' is not a valid RE2"),
    ({"trigger": {"type": "event", "event_type": "com.switchboard.message.status.v1"}}, "is not a published event type"),
    ({"trigger": {"type": "event", "event_type": "switchboard.message.status.v1", "filter": {"": 1}}}, "not a dotted path"),
    ({"trigger": {"type": "event", "event_type": "switchboard.message.status.v1", "filter": {"a": {"b": 1}}}}, "`filter.a` must be"),
    ({"trigger": {"type": "api", "sender_ids": []}}, "trigger: `sender_ids` must list 1 to 100 different sender ids"),
    ({"trigger": {"type": "api", "keywords": ["x"]}}, "`keywords` is not a setting of an api trigger"),
    ({"colour": "red"}, "`colour` is not part of a flow definition"),
    ({"nodes": []}, "a flow needs `nodes`"),
    ({"edges": {}}, "a flow needs `edges`"),
])
def test_flow_level_problems_name_no_node(changes, words):
    found = problems(flow(**changes))
    assert any(p.node is None and words in p.message for p in found), found


def test_a_definition_that_is_not_an_object():
    assert problems([]) == [Problem(None, "a flow definition must be a JSON object.")]


def test_many_problems_are_all_listed_at_once():
    body = flow(name="", trigger={"type": "keyword", "keywords": []})
    node(body, "pause")["seconds"] = 0
    node(body, "wait")["timeout_seconds"] = -1
    node(body, "ask")["message"] = {"type": "text", "text": "{{nope}}"}
    body["nodes"].append({"id": "orphan", "type": "end"})
    body["edges"].append({"from": "ghost", "to": "end"})
    body["edges"].append({"from": "route", "to": "end", "exit": "maybe"})
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(body)
    found = caught.value.problems
    assert [p.node for p in found] == [None, None, "ask", "wait", "pause", "ghost", "route", "orphan"], found
    text = str(caught.value)
    assert text.startswith("the flow definition has 8 problems: ") and "orphan: 'orphan' cannot be reached" in text
    assert found[0].as_json() == {"node": None, "message": found[0].message}
