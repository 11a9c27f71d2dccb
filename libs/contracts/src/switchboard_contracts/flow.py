"""Flow events (v1): a flow's definition lifecycle (`flow.created`, `draft_replaced`, `published`,
`activated`, `deactivated`, `deleted`) and each execution's steps (`flow.execution_started`,
`step_completed`, `waiting`, `resumed`, `execution_completed|failed|cancelled`, `handoff_requested`).
The ids are deterministic: an execution's from its flow, revision and triggering event; a message a
step sends from its execution and step (`execution_id`, `step_message_id`). The flow's events, and an
execution started or cancelled through the API, name who did it (`actor`: the API's caller); an
execution a trigger started, and what the engine does itself, name none (None)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from .actor import Actor
from .envelope import command_type, event_type
from .ids import deterministic_id

ENTITY = "flow"
CREATED = event_type(ENTITY, "created")
DRAFT_REPLACED = event_type(ENTITY, "draft_replaced")
PUBLISHED = event_type(ENTITY, "published")
ACTIVATED = event_type(ENTITY, "activated")
DEACTIVATED = event_type(ENTITY, "deactivated")
DELETED = event_type(ENTITY, "deleted")
EXECUTION_STARTED = event_type(ENTITY, "execution_started")
STEP_COMPLETED = event_type(ENTITY, "step_completed")
WAITING = event_type(ENTITY, "waiting")
RESUMED = event_type(ENTITY, "resumed")
EXECUTION_COMPLETED = event_type(ENTITY, "execution_completed")
EXECUTION_FAILED = event_type(ENTITY, "execution_failed")
EXECUTION_CANCELLED = event_type(ENTITY, "execution_cancelled")
HANDOFF_REQUESTED = event_type(ENTITY, "handoff_requested")
PERFORM_EFFECT = command_type(ENTITY, "effect")
SEND_OUTCOME = "flow.send_outcome"  # the `outcome_to` of a flow's send: its outcome comes back as this command

CLIENT_REF_PREFIX = "flow:"  # the client_ref of a message a flow sends: `flow:<execution id>`


def execution_id(flow_id: str, revision: int, trigger_event_id: str) -> str:
    """One execution per (flow, revision, triggering event): a redelivered trigger starts nothing new."""
    return deterministic_id("flow-execution", flow_id, str(revision), trigger_event_id)


def step_message_id(execution: str, step: int) -> str:
    """The message id of what step `step` of an execution sends: a repeated step sends nothing twice."""
    return deterministic_id("flow-message", execution, str(step))


class FlowChanged(BaseModel):
    """A flow's definition changed: created, its draft replaced, published, (de)activated or deleted."""

    flow_id: str
    name: str
    revision: int | None = None  # the published revision (published); the newest one (activated)
    active: bool = False
    definition: dict[str, Any] | None = None  # the whole definition (created, draft_replaced, published)
    at: datetime
    actor: Actor | None = None


class ExecutionStarted(BaseModel):
    execution_id: str
    flow_id: str
    revision: int
    contact: str
    contact_name: str | None = None
    sender_id: str
    trigger: dict[str, Any]  # {"type": keyword|any_message|event|api, "event_id"?}
    started_at: datetime
    actor: Actor | None = None  # the API's caller (an API start); None for a trigger's


class StepCompleted(BaseModel):
    execution_id: str
    flow_id: str
    step: int  # 1, 2, … in the execution
    node: str
    node_type: str
    exit: str | None = None  # None: the node's one exit
    at: datetime
    duration_ms: int
    detail: dict[str, Any] | None = None  # e.g. {"message_id"}, {"status"} of an HTTP call, {"reason"} of a failure


class Waiting(BaseModel):
    execution_id: str
    flow_id: str
    node: str
    waiting_for: Literal["reply", "delay", "message", "http", "email"]
    until: datetime | None = None  # a reply's timeout or a delay's end
    message_id: str | None = None  # the message whose status it waits for


class Resumed(BaseModel):
    execution_id: str
    flow_id: str
    node: str
    by: Literal["reply", "timeout", "delay", "status", "result"]
    at: datetime


class ExecutionEnded(BaseModel):
    execution_id: str
    flow_id: str
    status: Literal["completed", "failed", "cancelled"]
    reason: str | None = None
    steps: int
    ended_at: datetime
    actor: Actor | None = None  # who cancelled it through the API (or by deleting the flow); else None


class HandoffRequested(BaseModel):
    """A flow hands the contact over to people (the inbox): the conversation and an optional team."""

    execution_id: str
    flow_id: str
    conversation_id: str
    sender_id: str
    contact: str
    team_id: str | None = None
    note: str | None = None
    at: datetime


class PerformEffect(BaseModel):
    """Internal command: perform the HTTP call or e-mail of an execution's step (the request is read
    again from the execution, so no rendered header or body travels in the stream)."""

    execution_id: str
    step: int
    kind: Literal["http", "email"]
