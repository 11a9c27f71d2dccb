"""The Flows application: Flow and Execution aggregates in the event store (synchronous; call it
through `switchboard_runtime.eventstore.call`). Executions are cached (AGGREGATE_CACHE_MAXSIZE, with
fast-forward: a get reads only the events another replica added since)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from switchboard_runtime.eventstore import get_many

from .domain.execution import Execution
from .domain.flow import Flow


class FlowsApp(Application[UUID]):
    name = "flows"

    def create_flow(self, flow_id: str, org_id: str, definition: dict[str, Any], at: datetime,
                    actor: dict | None = None) -> Flow:
        flow = Flow(flow_id=flow_id, org_id=org_id, definition=definition, at=at, actor=actor)
        self.save(flow)
        return flow

    def flow(self, org_id: str, flow_id: str) -> Flow | None:
        flow = self._get(flow_id)
        return flow if isinstance(flow, Flow) and flow.org_id == org_id and not flow.deleted else None

    def change_flow(self, org_id: str, flow_id: str, act: Callable[[Flow], Any]) -> tuple[Flow, Any] | None:
        """Load, act (a Flow method; FlowStateError passes through), save; (flow, what act returned)."""
        flow = self.flow(org_id, flow_id)
        if flow is None:
            return None
        result = act(flow)
        self.save(flow)
        return flow, result

    def execution(self, execution_id: str) -> Execution | None:
        found = self._get(execution_id)
        return found if isinstance(found, Execution) else None

    def executions(self, execution_ids: list[str]) -> dict[str, Execution]:
        """Many executions at once (`get_many`: one query for the versions of the cached ones); an id
        that is no execution is left out."""
        ids = []
        for execution_id in execution_ids:
            try:
                ids.append(UUID(execution_id))
            except ValueError:
                continue
        return {str(k): v for k, v in get_many(self, ids).items() if isinstance(v, Execution)}

    def _get(self, aggregate_id: str):
        try:
            return self.repository.get(UUID(aggregate_id))
        except (AggregateNotFoundError, ValueError):
            return None
