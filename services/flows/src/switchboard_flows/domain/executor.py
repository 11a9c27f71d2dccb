"""Running an execution through its revision's nodes: `apply` an input (a reply, a status, a timer, an
effect's outcome, a cancel) and `run` from the current node until the execution waits or ends; then
`effect_of` says what the world must do for it now (send a message, set a timer, call HTTP, send an
e-mail). Guards (Twilio Studio's): at most 1,000 steps, the same node at most 10 times in a row (since the
contact last wrote), 30 days of life; past one the execution fails with the reason. No I/O: the service performs effects."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.flow import step_message_id

from .conditions import choose_exit
from .rendering import render_email, render_http, render_message, render_note, render_text, render_variables
from .definition import Definition
from .execution import Execution
from .inputs import Call, Cancel, Effect, EffectDone, Input, Reply, Send, StatusSeen, Timer, TimerFired
from .times import parse_time

MAX_STEPS = 1000
MAX_STREAK = 10
MAX_LIFE = timedelta(days=30)
MAX_DELAY = timedelta(days=30)
SENT = ("sent", "delivered", "read", "played")
FAILED = ("failed", "expired")
WAITS_FOR = {"message": "message", "delay": "delay", "wait_for_reply": "reply", "http": "http", "email": "email"}


def apply(ex: Execution, definition: Definition, item: Input, now: datetime) -> bool:
    """Record what `item` changes (nothing when it was seen before or does not concern the current
    wait); True when the execution should run on."""
    if not ex.active:
        return False
    if isinstance(item, Cancel):
        ex.ended(status="cancelled", reason=item.reason, at=now, actor=item.actor)
        return False
    if ex.has_seen(getattr(item, "input_id", None)):
        return False
    waiting = ex.waiting or {}
    if isinstance(item, Reply):
        return _reply(ex, definition, item, waiting, now)
    if isinstance(item, StatusSeen):
        return _status(ex, definition, item, waiting, now)
    if isinstance(item, TimerFired):
        return _timer(ex, definition, item, waiting, now)
    if isinstance(item, EffectDone):
        return _effect_done(ex, definition, item, waiting, now)
    return False


def run(ex: Execution, definition: Definition, now: datetime) -> None:
    """From the current node until the execution waits or ends."""
    while ex.status == "running":
        if (reason := _guard(ex, now)) is not None:
            ex.ended(status="failed", reason=reason, at=now)
            return
        node = definition.nodes.get(ex.node or "")
        if node is None:  # an exit that leads nowhere ends the execution
            ex.ended(status="completed", reason=None, at=now)
            return
        _enter(ex, definition, node, now)


def effect_of(ex: Execution, definition: Definition) -> Effect | None:
    """What the world must do for the execution now (the same answer until its state changes)."""
    if ex.status != "waiting" or ex.waiting is None:
        return None
    waiting, node = ex.waiting, definition.nodes[ex.node]
    if waiting["for"] == "message":
        content = render_message(node, ex.context())
        return Send(step=waiting["step"], node=node.id, message_id=waiting["message_id"],
                    sender_id=getattr(node, "sender_id", None) or ex.sender_id, content=content)
    if waiting["for"] in ("delay", "reply"):
        return Timer(step=waiting["step"], until=datetime.fromisoformat(waiting["until"]))
    if waiting["for"] == "http":
        return Call("http", waiting["step"], node.id, render_http(node, ex.context()))
    return Call("email", waiting["step"], node.id, render_email(node, ex.context()))


# --- entering a node ------------------------------------------------------------------------------

def _enter(ex: Execution, definition: Definition, node: Any, now: datetime) -> None:
    kind = node.type
    if kind in ("start", "end"):
        _complete(ex, definition, node, None, now)
        if kind == "end":
            ex.ended(status="completed", reason=None, at=now)
    elif kind == "condition":
        _complete(ex, definition, node, choose_exit(node, ex.context()), now)
    elif kind == "set_variable":
        _complete(ex, definition, node, None, now, changes={"vars": render_variables(node, ex.context())})
    elif kind == "handoff":
        ex.handoff_requested(node=node.id, team_id=getattr(node, "team_id", None),
                             conversation_id=conversation_id(ex.org_id, ex.sender_id, ex.contact),
                             note=render_note(node, ex.context()), at=now)
        _complete(ex, definition, node, None, now)
        ex.ended(status="completed", reason="handed off", at=now)
    elif kind == "wait_for_reply" and ex.inbox:
        ex.inbox_taken(node=node.id, input_id=ex.inbox[0]["input_id"], at=now)
        _complete(ex, definition, node, "reply", now)
    else:
        _wait(ex, node, now)


def _wait(ex: Execution, node: Any, now: datetime) -> None:
    step, until, message_id = ex.step_number, None, None
    waiting_for = WAITS_FOR[node.type]
    life_end = ex.started_at + MAX_LIFE
    if node.type == "delay":
        until = _delay_end(ex, node, now)
        if until is None:
            return
        until = min(until, life_end)
    elif node.type == "wait_for_reply":
        until = min(now + timedelta(seconds=node.timeout_seconds), life_end)
    elif node.type == "message":
        message_id = step_message_id(str(ex.id), step)
    ex.waited(node=node.id, waiting_for=waiting_for, until=until, message_id=message_id,
              step=step, at=now)


def _delay_end(ex: Execution, node: Any, now: datetime) -> datetime | None:
    """When a delay ends: `seconds` from now, or its `until` (a past time: now); None when `until`
    renders to no time or to one more than 30 days ahead — the execution has then failed, saying so."""
    if node.until is None:
        return now + timedelta(seconds=node.seconds)
    text = render_text(node.until, ex.context())
    when = parse_time(text)
    if when is None:
        ex.ended(status="failed", reason=f"delay {node.id!r}: `until` is {text[:60]!r}, not a time with its UTC "
                                         "offset (RFC 3339)", at=now)
        return None
    if when - now > MAX_DELAY:
        ex.ended(status="failed", reason=f"delay {node.id!r}: `until` {text!r} is more than 30 days ahead", at=now)
        return None
    return max(when, now)


def _complete(ex: Execution, definition: Definition, node: Any, exit: str | None, now: datetime,
              detail: dict[str, Any] | None = None, changes: dict[str, Any] | None = None) -> None:
    duration = max(int((now - ex.entered_at).total_seconds() * 1000), 0)
    ex.step_completed(step=ex.step_number, node=node.id, node_type=node.type, exit=exit,
                      next_node=definition.next(node.id, exit) if node.type != "end" else None, at=now,
                      duration_ms=duration, detail=detail, changes=changes)


def _guard(ex: Execution, now: datetime) -> str | None:
    if len(ex.steps) >= MAX_STEPS:
        return f"more than {MAX_STEPS} steps"
    if ex.visits.get(ex.node or "", 0) >= MAX_STREAK:
        return f"node {ex.node!r} ran {MAX_STREAK} times in a row (without the contact writing)"
    if now - ex.started_at >= MAX_LIFE:
        return f"older than {MAX_LIFE.days} days"
    return None


# --- inputs ---------------------------------------------------------------------------------------

def _reply(ex: Execution, definition: Definition, item: Reply, waiting: dict, now: datetime) -> bool:
    if waiting.get("for") == "reply":
        ex.resumed(node=ex.node, by="reply", input_id=item.input_id, at=now,
                   message=item.text, reply_id=item.reply_id, contact_name=item.contact_name)
        _complete(ex, definition, definition.nodes[ex.node], "reply", now)
        return True
    ex.buffered(input_id=item.input_id, text=item.text, reply_id=item.reply_id,
                contact_name=item.contact_name, at=now)  # kept for the next wait_for_reply
    return False


def _status(ex: Execution, definition: Definition, item: StatusSeen, waiting: dict, now: datetime) -> bool:
    if waiting.get("for") != "message" or waiting.get("message_id") != item.message_id:
        return False
    if item.status not in SENT + FAILED:
        return False
    ex.resumed(node=ex.node, by="status", input_id=item.input_id, at=now)
    exit = "sent" if item.status in SENT else "failed"
    detail = {"message_id": item.message_id, **({"reason": item.error} if item.error else {}), **(item.detail or {})}
    _complete(ex, definition, definition.nodes[ex.node], exit, now, detail=detail)
    return True


def _timer(ex: Execution, definition: Definition, item: TimerFired, waiting: dict, now: datetime) -> bool:
    if waiting.get("for") not in ("delay", "reply") or waiting.get("step") != item.step:
        return False
    node = definition.nodes[ex.node]
    if now - ex.started_at >= MAX_LIFE:
        ex.ended(status="failed", reason=f"older than {MAX_LIFE.days} days", at=now)
        return False
    by = "delay" if waiting["for"] == "delay" else "timeout"
    ex.resumed(node=node.id, by=by, input_id=item.input_id, at=now)
    _complete(ex, definition, node, None if by == "delay" else "timeout", now)
    return True


def _effect_done(ex: Execution, definition: Definition, item: EffectDone, waiting: dict, now: datetime) -> bool:
    if waiting.get("for") not in ("http", "email") or waiting.get("step") != item.step:
        return False
    node = definition.nodes[ex.node]
    ex.resumed(node=node.id, by="result", input_id=item.input_id, at=now)
    if waiting["for"] == "http":
        exit = "success" if item.ok else "failure"
        changes = {"http": {node.id: item.result or {"status": None, "body": "", "json": None}}}
    else:
        exit, changes = ("sent" if item.ok else "failed"), None
    _complete(ex, definition, node, exit, now, detail=item.detail or None, changes=changes)
    return True
