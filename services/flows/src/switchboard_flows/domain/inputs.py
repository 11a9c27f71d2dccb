"""What an execution reacts to (inputs) and what it asks the world to do (effects). Inputs carry the
id of the message that brought them, so a redelivered one changes nothing; effects are derived from
the execution's state (`executor.effect_of`), so performing one again after a crash is harmless
(send commands and timers have deterministic ids)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Reply:
    """The contact wrote (an inbound message)."""

    input_id: str
    text: str | None
    reply_id: str | None = None  # an interactive (button / list) reply's id
    contact_name: str | None = None


@dataclass(frozen=True)
class StatusSeen:
    """A status of a message the execution sent."""

    input_id: str
    message_id: str
    status: str
    error: str | None = None
    detail: dict[str, Any] | None = None  # more for the step's detail (a failure's `code`)


@dataclass(frozen=True)
class TimerFired:
    input_id: str
    step: int


@dataclass(frozen=True)
class EffectDone:
    """The outcome of an HTTP call or an e-mail of step `step`."""

    input_id: str
    step: int
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)  # status / error / attempts, for the step event
    result: dict[str, Any] | None = None  # an HTTP node's {status, body, json}: `flow.http.<node>`


@dataclass(frozen=True)
class Cancel:
    reason: str = "cancelled"
    actor: dict | None = None  # who cancels (the API's caller)


Input = Reply | StatusSeen | TimerFired | EffectDone | Cancel


@dataclass(frozen=True)
class Send:
    """Send the message of a `message` node (one command; its id is deterministic)."""

    step: int
    node: str
    message_id: str
    sender_id: str
    content: dict[str, Any]


@dataclass(frozen=True)
class Timer:
    """Wake the execution at `until` (a delay's end, a reply's timeout, the end of its life)."""

    step: int
    until: datetime


@dataclass(frozen=True)
class Call:
    """Perform an HTTP request or send an e-mail (`kind`), then report an EffectDone."""

    kind: str  # "http" | "email"
    step: int
    node: str
    request: dict[str, Any]


Effect = Send | Timer | Call
