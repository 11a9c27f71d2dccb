"""Flow and Execution domain events as public CloudEvents (for the relay); `Buffered` and
`InboxTaken` stay inside (the messages themselves are public already as `message.received`). The
flow's events, an execution started or cancelled through the API, name the caller (`actor`); what
the engine does itself names none."""

from __future__ import annotations

from switchboard_contracts import flow as contract
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import aggregate_event_id

from .domain.execution import Execution
from .domain.flow import Flow

SOURCE = "switchboard/flows"
ENDINGS = {"completed": contract.EXECUTION_COMPLETED, "failed": contract.EXECUTION_FAILED,
           "cancelled": contract.EXECUTION_CANCELLED}


def to_cloudevent(domain_event: object) -> CloudEvent | None:
    aggregate_id = str(domain_event.originator_id)
    found = _flow_event(domain_event, aggregate_id) if isinstance(domain_event, _FLOW_EVENTS) else \
        _execution_event(domain_event, aggregate_id)
    if found is None:
        return None
    type_, data, subject = found
    return make_envelope(id=aggregate_event_id(aggregate_id, domain_event.originator_version), source=SOURCE,
                         type=type_, orgid=domain_event.org_id, data=data, subject=subject,
                         time=domain_event.timestamp)


_FLOW_EVENTS = (Flow.Created, Flow.DraftReplaced, Flow.Published, Flow.Activated, Flow.Deactivated, Flow.Deleted)
_FLOW_TYPES = {Flow.Created: contract.CREATED, Flow.DraftReplaced: contract.DRAFT_REPLACED,
               Flow.Published: contract.PUBLISHED, Flow.Activated: contract.ACTIVATED,
               Flow.Deactivated: contract.DEACTIVATED, Flow.Deleted: contract.DELETED}


def _flow_event(e, flow_id: str):
    definition = getattr(e, "definition", None)
    data = contract.FlowChanged(flow_id=flow_id, name=(definition or {}).get("name", ""),
                                revision=getattr(e, "revision", None),
                                active=isinstance(e, Flow.Activated), definition=definition, at=e.at,
                                actor=getattr(e, "actor", None))
    return _FLOW_TYPES[type(e)], data, flow_id


def _execution_event(e, execution_id: str):
    if isinstance(e, Execution.Started):
        return contract.EXECUTION_STARTED, contract.ExecutionStarted(
            execution_id=execution_id, flow_id=e.flow_id, revision=e.revision, contact=e.contact,
            contact_name=e.contact_name, sender_id=e.sender_id, trigger=e.trigger, started_at=e.at,
            actor=getattr(e, "actor", None)), execution_id
    if isinstance(e, Execution.StepCompleted):
        return contract.STEP_COMPLETED, contract.StepCompleted(
            execution_id=execution_id, flow_id=_flow_of(e), step=e.step, node=e.node, node_type=e.node_type,
            exit=e.exit, at=e.at, duration_ms=e.duration_ms, detail=e.detail), execution_id
    if isinstance(e, Execution.Waited):
        return contract.WAITING, contract.Waiting(
            execution_id=execution_id, flow_id=_flow_of(e), node=e.node, waiting_for=e.waiting_for,
            until=e.until, message_id=e.message_id), execution_id
    if isinstance(e, Execution.Resumed):
        return contract.RESUMED, contract.Resumed(execution_id=execution_id, flow_id=_flow_of(e), node=e.node,
                                                  by=e.by, at=e.at), execution_id
    if isinstance(e, Execution.Ended):
        return ENDINGS[e.status], contract.ExecutionEnded(
            execution_id=execution_id, flow_id=_flow_of(e), status=e.status, reason=e.reason,
            steps=e.steps, ended_at=e.at, actor=getattr(e, "actor", None)), execution_id
    if isinstance(e, Execution.HandoffRequested):
        return contract.HANDOFF_REQUESTED, contract.HandoffRequested(
            execution_id=execution_id, flow_id=_flow_of(e), conversation_id=e.conversation_id,
            sender_id=e.sender_id, contact=e.contact, team_id=e.team_id,
            note=e.note, at=e.at), execution_id
    return None


def _flow_of(e) -> str:
    return e.flow_id
