"""The executor on the issue's example flow, in memory: each input moves an execution exactly as the
graph says, a seen input changes nothing, a message that arrives while the execution is busy waits
for the next wait_for_reply, and the guards end runaway executions."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from switchboard_contracts.flow import step_message_id
from switchboard_flows.domain.definition import parse_definition
from switchboard_flows.domain.execution import Execution
from switchboard_flows.domain.executor import MAX_STEPS, apply, effect_of, run
from switchboard_flows.domain.inputs import Call, Cancel, EffectDone, Reply, Send, StatusSeen, Timer, TimerFired

EXAMPLE = {
    "name": "order status",
    "trigger": {"type": "keyword", "keywords": ["status"], "match": "contains"},
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "ask", "type": "message", "message": {"type": "text", "text": "Hi {{contact.name|there}}, yes or no?"}},
        {"id": "wait", "type": "wait_for_reply", "timeout_seconds": 3600},
        {"id": "route", "type": "condition",
         "rules": [{"exit": "yes", "if": {"field": "flow.message", "op": "contains", "value": "yes"}}]},
        {"id": "pause", "type": "delay", "seconds": 2},
        {"id": "thanks", "type": "message", "message": {"type": "text", "text": "Thanks!"}},
        {"id": "bye", "type": "message", "message": {"type": "text", "text": "Maybe later."}},
        {"id": "end", "type": "end"}],
    "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "wait", "exit": "sent"},
              {"from": "ask", "to": "end", "exit": "failed"},
              {"from": "wait", "to": "route", "exit": "reply"}, {"from": "wait", "to": "end", "exit": "timeout"},
              {"from": "route", "to": "pause", "exit": "yes"}, {"from": "route", "to": "bye", "exit": "else"},
              {"from": "pause", "to": "thanks"}, {"from": "thanks", "to": "end", "exit": "sent"},
              {"from": "thanks", "to": "end", "exit": "failed"}, {"from": "bye", "to": "end", "exit": "sent"},
              {"from": "bye", "to": "end", "exit": "failed"}]}
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EXECUTION_ID = "7b0e1f4e-0000-4000-8000-000000000001"


def started(definition, name: str | None = "Ana", at: datetime = T0) -> Execution:
    ex = Execution(execution_id=EXECUTION_ID, org_id="org", flow_id="flow", revision=1, contact="+4915100000001",
                   contact_name=name, sender_id="sender", trigger={"type": "keyword", "event_id": "in-1"}, data={},
                   start_node=definition.start, at=at, message="status?")
    run(ex, definition, at)
    return ex


def sent(ex: Execution, definition, at: datetime, status: str = "sent") -> None:
    effect = effect_of(ex, definition)
    assert isinstance(effect, Send)
    assert apply(ex, definition, StatusSeen(f"st-{effect.message_id}-{status}", effect.message_id, status), at)
    run(ex, definition, at)


def test_the_example_runs_yes_through_a_delay_to_its_end():
    definition = parse_definition(EXAMPLE)
    ex = started(definition)
    send = effect_of(ex, definition)
    assert send == Send(step=2, node="ask", message_id=step_message_id(EXECUTION_ID, 2), sender_id="sender",
                        content={"type": "text", "text": "Hi Ana, yes or no?"})
    sent(ex, definition, T0 + timedelta(seconds=1))
    assert ex.status == "waiting" and ex.waiting["for"] == "reply"
    assert effect_of(ex, definition) == Timer(step=3, until=T0 + timedelta(seconds=3601))
    assert apply(ex, definition, Reply("in-2", "Yes please"), T0 + timedelta(seconds=5))
    run(ex, definition, T0 + timedelta(seconds=5))
    timer = effect_of(ex, definition)
    assert timer == Timer(step=5, until=T0 + timedelta(seconds=7)) and ex.node == "pause"
    assert not apply(ex, definition, TimerFired("t-wrong", step=3), T0 + timedelta(seconds=7))  # a stale timer
    assert apply(ex, definition, TimerFired("t-5", step=5), T0 + timedelta(seconds=7))
    run(ex, definition, T0 + timedelta(seconds=7))
    assert effect_of(ex, definition).content == {"type": "text", "text": "Thanks!"}
    sent(ex, definition, T0 + timedelta(seconds=8))
    assert ex.status == "completed"
    assert [(s["node"], s["exit"]) for s in ex.steps] == [
        ("start", None), ("ask", "sent"), ("wait", "reply"), ("route", "yes"), ("pause", None),
        ("thanks", "sent"), ("end", None)]
    assert ex.steps[2]["duration_ms"] == 4000  # waited from 1 s to 5 s
    assert effect_of(ex, definition) is None


def test_no_reply_times_out_and_a_failed_message_takes_its_failed_exit():
    definition = parse_definition(EXAMPLE)
    ex = started(definition, name=None)
    assert effect_of(ex, definition).content["text"] == "Hi there, yes or no?"
    sent(ex, definition, T0, status="failed")
    assert ex.status == "completed" and [s["exit"] for s in ex.steps][-2:] == ["failed", None]
    other = started(definition)
    sent(other, definition, T0)
    assert apply(other, definition, TimerFired("t-3", step=3), T0 + timedelta(hours=1))
    run(other, definition, T0 + timedelta(hours=1))
    assert [(s["node"], s["exit"]) for s in other.steps][-2:] == [("wait", "timeout"), ("end", None)]


def test_a_message_that_arrives_while_busy_waits_for_the_next_wait_for_reply():
    definition = parse_definition(EXAMPLE)
    ex = started(definition)
    assert not apply(ex, definition, Reply("in-2", "yes!"), T0)  # the question is not sent yet: kept
    assert ex.inbox and ex.status == "waiting"
    sent(ex, definition, T0 + timedelta(seconds=1))
    assert ex.node == "pause" and ex.message == "yes!"  # taken at once by wait_for_reply → route yes


def test_a_seen_input_changes_nothing_and_a_cancel_ends_it():
    definition = parse_definition(EXAMPLE)
    ex = started(definition)
    sent(ex, definition, T0)
    assert apply(ex, definition, Reply("in-2", "no"), T0)
    before = copy.deepcopy(ex.steps)
    assert not apply(ex, definition, Reply("in-2", "no"), T0)  # redelivered
    assert ex.steps == before and not ex.inbox
    assert not apply(ex, definition, Reply("in-1", "status?"), T0)  # the triggering message itself
    apply(ex, definition, Cancel("test"), T0)
    assert ex.status == "cancelled" and ex.reason == "test" and effect_of(ex, definition) is None


def test_http_results_land_in_the_context_and_take_the_exit():
    definition = parse_definition({
        "name": "lookup", "trigger": {"type": "api"},
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "call", "type": "http", "url": "http://erp.example/orders/{{flow.data.order}}"},
                  {"id": "say", "type": "message",
                   "message": {"type": "text", "text": "Order {{flow.http.call.json.status|unknown}}"}},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "say", "exit": "success"},
                  {"from": "call", "to": "end", "exit": "failure"}, {"from": "say", "to": "end", "exit": "sent"},
                  {"from": "say", "to": "end", "exit": "failed"}]})
    ex = Execution(execution_id=EXECUTION_ID, org_id="org", flow_id="flow", revision=1, contact="+4915100000001",
                   contact_name=None, sender_id="sender", trigger={"type": "api", "event_id": "api-1"},
                   data={"order": "A 1"}, start_node=definition.start, at=T0)
    run(ex, definition, T0)
    call = effect_of(ex, definition)
    assert isinstance(call, Call) and call.kind == "http" and call.request["url"].endswith("/orders/A%201")
    done = EffectDone("e-2", step=2, ok=True, detail={"status": 200},
                      result={"status": 200, "body": '{"status": "shipped"}', "json": {"status": "shipped"}})
    assert apply(ex, definition, done, T0)
    run(ex, definition, T0)
    assert effect_of(ex, definition).content["text"] == "Order shipped"


def test_guards_end_a_loop_that_goes_round_without_the_contact_writing():
    definition = parse_definition({
        "name": "nag", "trigger": {"type": "api"},
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "nag", "type": "message", "message": {"type": "text", "text": "Still there?"}},
                  {"id": "pause", "type": "delay", "seconds": 60}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "nag"}, {"from": "nag", "to": "pause", "exit": "sent"},
                  {"from": "nag", "to": "end", "exit": "failed"}, {"from": "pause", "to": "nag"}]})
    ex = Execution(execution_id=EXECUTION_ID, org_id="org", flow_id="flow", revision=1, contact="+4915100000001",
                   contact_name=None, sender_id="sender", trigger={"type": "api", "event_id": "api-1"}, data={},
                   start_node=definition.start, at=T0)
    run(ex, definition, T0)
    for round_ in range(20):  # bounded: the guard ends it on the tenth visit
        if ex.status != "waiting":
            break
        sent(ex, definition, T0)
        timer = effect_of(ex, definition)
        apply(ex, definition, TimerFired(f"t-{round_}", step=timer.step), T0)
        run(ex, definition, T0)
    assert ex.status == "failed" and "10 times in a row" in ex.reason
    assert [s["node"] for s in ex.steps].count("nag") == 10 and MAX_STEPS == 1000


def test_an_execution_older_than_thirty_days_fails_when_it_wakes():
    definition = parse_definition(EXAMPLE)
    ex = started(definition)
    sent(ex, definition, T0)
    assert effect_of(ex, definition).until == T0 + timedelta(hours=1)
    assert not apply(ex, definition, TimerFired("t-3", step=3), T0 + timedelta(days=31))
    assert ex.status == "failed" and "30 days" in ex.reason


UNTIL = {"name": "reminder", "trigger": {"type": "api"},
         "nodes": [{"id": "start", "type": "start"}, {"id": "pause", "type": "delay", "until": "{{flow.data.at}}"},
                   {"id": "end", "type": "end"}],
         "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "end"}]}


def waiting_until(at) -> Execution:
    definition = parse_definition(UNTIL)
    ex = Execution(execution_id=EXECUTION_ID, org_id="org", flow_id="flow", revision=1, contact="+4915100000001",
                   contact_name=None, sender_id="sender", trigger={"type": "api", "event_id": "api-1"},
                   data={"at": at}, start_node=definition.start, at=T0)
    run(ex, definition, T0)
    return ex


def test_a_delay_until_a_time_waits_until_then_and_a_past_time_goes_on_at_once():
    definition = parse_definition(UNTIL)
    ex = waiting_until("2026-12-01T13:30:00+01:00")
    assert effect_of(ex, definition) == Timer(step=2, until=T0 + timedelta(minutes=30))
    assert apply(ex, definition, TimerFired("t-2", step=2), T0 + timedelta(minutes=30))
    run(ex, definition, T0 + timedelta(minutes=30))
    assert ex.status == "completed"
    past = waiting_until("2026-11-30T12:00:00Z")
    assert effect_of(past, definition) == Timer(step=2, until=T0)


def test_a_delay_until_no_time_or_beyond_thirty_days_fails_saying_why():
    for at, words in [("next week", "not a time with its UTC offset"), (None, "not a time"),
                      ("2027-02-01T12:00:00Z", "more than 30 days ahead")]:
        ex = waiting_until(at)
        assert ex.status == "failed" and words in ex.reason, (at, ex.reason)
