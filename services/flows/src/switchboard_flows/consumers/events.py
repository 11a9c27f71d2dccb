"""Public events → flows triggered by them (`{"type": "event", "event_type", "filter"}`): each active
flow whose filter matches starts one execution (its id derives from the event's). The consumer reads
only the event types some active flow listens to — its filter subjects follow the flows (set again at
start, after a change in this replica, and every `refresh_seconds` for the others'), so the stream's
other events never reach the service. The contact is the event's `to`, `recipient`, `from` or
`contact`, and its sender the event's `sender_id`; `{{flow.data.*}}` is the event's data, with
`event_type` and `event_id`. The statuses of flows' own messages trigger nothing (a flow on failed
sends would otherwise feed itself)."""

from __future__ import annotations

import asyncio

from nats.js.api import ConsumerConfig

from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.flow import CLIENT_REF_PREFIX
from switchboard_contracts.streams import FLOWS_EVENTS, ConsumerSpec
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery, consumer_config

from ..engine import Engine, Start
from ..flow_store import FlowStore
from ..trigger_directory import TriggerDirectory

log = get_logger(__name__)
NONE = FLOWS_EVENTS.filter_subjects[0]  # matches no event: while no flow listens to any
CONTACT_FIELDS = ("to", "recipient", "from", "contact")


def subject_of_type(event_type: str) -> str | None:
    """`switchboard.<entity>.<name>.v1` → `sb.evt.*.<entity>.<name>`."""
    parts = event_type.split(".")
    return f"sb.evt.*.{parts[1]}.{parts[2]}" if len(parts) == 4 and parts[0] == "switchboard" else None


class EventTriggers:
    def __init__(self, engine: Engine, store: FlowStore, directory: TriggerDirectory, js,
                 refresh_seconds: float = 30.0):
        self.engine, self.store, self.directory, self.js = engine, store, directory, js
        self.refresh_seconds = refresh_seconds
        self._subjects: list[str] | None = None
        self._task: asyncio.Task | None = None

    def spec(self, subjects: list[str]) -> ConsumerSpec:
        return FLOWS_EVENTS.model_copy(update={"filter_subjects": subjects})

    async def follow_flows(self) -> None:
        """Set the consumer's filter subjects to what the active flows listen to (when it changed)."""
        subjects = sorted({s for t in await self.store.event_types() if (s := subject_of_type(t))}) or [NONE]
        if subjects != self._subjects:
            config: ConsumerConfig = consumer_config(self.spec(subjects))
            config.filter_subject, config.filter_subjects = None, subjects
            await self.js.add_consumer(FLOWS_EVENTS.stream, config)
            self._subjects = subjects

    async def start(self) -> None:
        await self.follow_flows()
        self._task = asyncio.create_task(self._refresh(), name="flows event filters")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.follow_flows()
            except Exception as exc:  # noqa: BLE001 - try again next time
                log.warning("could not update the event filters", error=repr(exc))

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        for d in deliveries:
            try:
                ce = d.event()
            except BadMessage as exc:
                outcome.reject(d, str(exc))
                continue
            if str(ce.data.get("client_ref") or "").startswith(CLIENT_REF_PREFIX):
                continue  # a status of a flow's own message never triggers a flow: no flow feeds itself
            for flow in await self.directory.for_event(ce.orgid, ce.type, ce.data):
                await self.engine.start(self.start_of(ce, flow))
        return outcome

    def start_of(self, ce: CloudEvent, flow) -> Start:
        data = ce.data
        contact = next((str(data[f]) for f in CONTACT_FIELDS if isinstance(data.get(f), str) and data[f]), None)
        return Start(org_id=ce.orgid, flow_id=flow.flow_id, revision=flow.revision,
                     contact=contact or f"event:{ce.id}", contact_name=data.get("contact_name"),
                     sender_id=str(data.get("sender_id") or ""), trigger={"type": "event", "event_id": ce.id},
                     data={**data, "event_type": ce.type, "event_id": ce.id})
