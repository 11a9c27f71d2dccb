"""What the API does to flows: create (a draft), replace the draft, publish it as the next revision,
activate, deactivate, delete (cancelling the flow's running executions). Each change is saved in the
event store, then written to the read tables before the API answers, and the trigger directory of
this replica learns it at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from switchboard_runtime.eventstore import call

from .application import FlowsApp
from .domain.definition import parse_definition
from .domain.flow import Flow
from .domain.inputs import Cancel
from .engine import Engine
from .flow_store import FlowStore
from .trigger_directory import TriggerDirectory


class FlowCommands:
    def __init__(self, app: FlowsApp, store: FlowStore, directory: TriggerDirectory, engine: Engine,
                 triggers_changed: Callable[[], Awaitable[None]] | None = None):
        self.app, self.store, self.directory, self.engine = app, store, directory, engine
        self.triggers_changed = triggers_changed  # the event triggers' filter follows the active flows

    async def create(self, flow_id: str, org_id: str, definition: dict[str, Any], actor: dict | None = None) -> Flow:
        flow = await call(self.app.create_flow, flow_id, org_id, definition, _now(), actor)
        await self._recorded(flow)
        return flow

    async def replace(self, org_id: str, flow_id: str, definition: dict[str, Any], actor: dict | None = None) -> Flow | None:
        return await self._change(org_id, flow_id, lambda f: f.replace_draft(definition, _now(), actor))

    async def publish(self, org_id: str, flow_id: str, actor: dict | None = None) -> tuple[Flow, int] | None:
        """The draft, validated again, becomes the next revision (DefinitionInvalid passes through)."""
        flow = await call(self.app.flow, org_id, flow_id)
        if flow is None:
            return None
        parse_definition(flow.draft)
        changed = await call(self.app.change_flow, org_id, flow_id, lambda f: f.publish(_now(), actor))
        if changed is None:
            return None
        await self._recorded(changed[0])
        return changed

    async def activate(self, org_id: str, flow_id: str, actor: dict | None = None) -> Flow | None:
        return await self._change(org_id, flow_id, lambda f: f.activate(_now(), actor))

    async def deactivate(self, org_id: str, flow_id: str, actor: dict | None = None) -> Flow | None:
        return await self._change(org_id, flow_id, lambda f: f.deactivate(_now(), actor))

    async def delete(self, org_id: str, flow_id: str, actor: dict | None = None) -> bool:
        flow = await self._change(org_id, flow_id, lambda f: f.delete(_now(), actor))
        if flow is None:
            return False
        for execution_id in await self.engine.index.active_of_flow(flow_id):
            await self.engine.deliver(execution_id, Cancel("its flow was deleted", actor))
        return True

    async def _change(self, org_id: str, flow_id: str, act) -> Flow | None:
        changed = await call(self.app.change_flow, org_id, flow_id, act)
        if changed is None:
            return None
        await self._recorded(changed[0])
        return changed[0]

    async def _recorded(self, flow: Flow) -> None:
        await self.store.record(flow)
        self.directory.changed(flow.org_id)
        if self.triggers_changed is not None:
            await self.triggers_changed()


def _now() -> datetime:
    return datetime.now(UTC)
