"""The execution engine: starts executions and delivers inputs to them, one at a time per execution
(a lock per execution in this replica; the event store's optimistic concurrency between replicas —
a conflict is retried on a fresh copy). Each change is saved, the read table synced, and the
execution's effect performed, before the caller acks what brought the input: a crash anywhere in
between is healed by the redelivery (a seen input changes nothing, and its effect is performed again,
which is harmless)."""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import RecordConflictError

from switchboard_contracts.flow import execution_id as execution_id_of
from switchboard_runtime.eventstore import call

from .application import FlowsApp
from .domain.definition import Definition, parse_definition
from .domain.execution import Execution
from .domain.executor import apply, effect_of, run
from .domain.inputs import Input
from .execution_index import ExecutionIndex
from .flow_store import FlowStore
from .performer import Performer

REVISIONS_KEPT = 1000


@dataclass(frozen=True)
class Start:
    org_id: str
    flow_id: str
    revision: int
    contact: str
    contact_name: str | None
    sender_id: str
    trigger: dict[str, Any]  # {"type", "event_id"}: the event id makes the execution's id
    data: dict[str, Any]  # `flow.data` (an API start's parameters, an event's data)
    message: str | None = None  # the triggering message's text and reply id: `flow.message` at first
    reply_id: str | None = None
    actor: dict | None = None  # who starts it: the API's caller (None: a trigger)


class Revisions:
    """Parsed definitions by (flow, revision), as published (immutable, so kept)."""

    def __init__(self, store: FlowStore):
        self.store = store
        self._kept: OrderedDict[tuple[str, int], Definition] = OrderedDict()

    def put(self, flow_id: str, revision: int, body: dict[str, Any]) -> Definition:
        """The parsed definition of a revision whose body is at hand (parsed once)."""
        key = (flow_id, revision)
        found = self._kept.get(key)
        if found is None:
            found = self._kept[key] = parse_definition(body)
            if len(self._kept) > REVISIONS_KEPT:
                self._kept.popitem(last=False)
        return found

    async def get(self, flow_id: str, revision: int) -> Definition | None:
        key = (flow_id, revision)
        if key in self._kept:
            return self._kept[key]
        body = await self.store.revision(flow_id, revision)
        return None if body is None else self.put(flow_id, revision, body)


class Engine:
    def __init__(self, app: FlowsApp, index: ExecutionIndex, revisions: Revisions, performer: Performer,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.app, self.index, self.revisions, self.performer = app, index, revisions, performer
        self.clock = clock
        self._locks = KeyedLocks()

    async def start(self, start: Start, first: Input | None = None) -> tuple[str, bool]:
        """Start the execution `start` names (its id derives from flow, revision and triggering
        event): (its id, True) — or, when another execution of the flow is active for the contact,
        (that one's id, False), `first` delivered to it instead."""
        execution_id = execution_id_of(start.flow_id, start.revision, start.trigger["event_id"])
        for _ in range(3):  # a claim can lose to an execution that ends meanwhile: claim again
            holder = await self.index.claim(execution_id, start.org_id, start.flow_id, start.revision,
                                            start.contact, start.sender_id, self.clock())
            if holder is not None:
                break
        else:
            raise RuntimeError(f"could not claim flow {start.flow_id} for a contact")
        if holder != execution_id:
            if first is not None:
                await self.deliver(holder, first)
            return holder, False
        async with self._lock(execution_id):
            await self._with_retry(execution_id, lambda: self._start(execution_id, start), redelivered=True)
        return execution_id, True

    async def deliver(self, execution_id: str, item: Input, redelivered: bool = False) -> Execution | None:
        """Apply `item` and run on; None when there is no such execution."""
        async with self._lock(execution_id):
            return await self._with_retry(execution_id, lambda: self._deliver(execution_id, item),
                                          redelivered=redelivered)

    async def deliver_many(self, items: list[tuple[str, Input, bool]]) -> None:
        """Deliver many inputs at once — (execution id, input, redelivered), an execution's in the order
        given: every execution they change is saved in one transaction and its read row synced in one
        statement (a burst of timers falling due in the same second costs one commit, not thousands);
        then their effects are performed side by side. A conflict with another replica sends each
        execution down the one-at-a-time path, which retries on a fresh copy."""
        by_id: dict[str, list[tuple[Input, bool]]] = {}
        for execution_id, item, redelivered in items:
            by_id.setdefault(execution_id, []).append((item, redelivered))
        ids = sorted(by_id)
        async with self._locks.hold_all(ids):
            changed = await self._apply_all(ids, by_id)
            if changed is not None:
                await self.index.sync_all([ex for ex, _, _ in changed], self.clock())
                await asyncio.gather(*(self._after(ex, definition, perform, synced=True)
                                       for ex, definition, perform in changed))
                return
        for execution_id in ids:  # lost a race to another replica: one at a time, each retried
            for item, redelivered in by_id[execution_id]:
                await self.deliver(execution_id, item, redelivered=redelivered)

    async def _apply_all(self, ids: list[str], by_id: dict[str, list[tuple[Input, bool]]]
                         ) -> list[tuple[Execution, Definition, bool]] | None:
        """Apply and run each execution's inputs and save all that changed together: (execution, its
        definition, whether to perform its effect) — or None when the save met a conflict."""
        loaded = await call(self.app.executions, ids)
        touched, changed = [], []
        now = self.clock()
        for execution_id in ids:
            ex = loaded.get(execution_id)
            definition = None if ex is None else await self.revisions.get(ex.flow_id, ex.revision)
            if ex is None or definition is None:
                continue
            for item, _ in by_id[execution_id]:
                if apply(ex, definition, item, now):
                    run(ex, definition, now)
            moved = bool(ex.pending_events)
            if moved:
                changed.append(ex)
            touched.append((ex, definition, moved or any(again for _, again in by_id[execution_id])))
        try:
            if changed:
                await call(self.app.save, *changed)
        except RecordConflictError:
            return None
        return touched

    async def heal(self, execution_id: str) -> None:
        """Perform the execution's effect again (its timer set again: one past its time fires at
        once) — for an execution whose timer is overdue, in case its schedule never reached the
        stream. A firing it then gets twice changes nothing the second time."""
        async with self._lock(execution_id):
            ex = await call(self.app.execution, execution_id)
            definition = None if ex is None else await self.revisions.get(ex.flow_id, ex.revision)
            if ex is not None and definition is not None:
                await self._after(ex, definition, perform=True, fresh=True)

    async def _start(self, execution_id: str, start: Start) -> tuple[Execution | None, Definition | None]:
        ex = await call(self.app.execution, execution_id)
        definition = await self.revisions.get(start.flow_id, start.revision)
        if ex is None and definition is not None:
            now = self.clock()
            ex = Execution(execution_id=execution_id, org_id=start.org_id, flow_id=start.flow_id,
                           revision=start.revision, contact=start.contact, contact_name=start.contact_name,
                           sender_id=start.sender_id, trigger=start.trigger, data=start.data,
                           start_node=definition.start, at=now, message=start.message, reply_id=start.reply_id,
                           actor=start.actor)
            run(ex, definition, now)
        return ex, definition

    async def _deliver(self, execution_id: str, item: Input) -> tuple[Execution | None, Definition | None]:
        ex = await call(self.app.execution, execution_id)
        if ex is None:
            return None, None
        definition = await self.revisions.get(ex.flow_id, ex.revision)
        if definition is not None:
            now = self.clock()
            if apply(ex, definition, item, now):
                run(ex, definition, now)
        return ex, definition

    async def _with_retry(self, execution_id: str, change, redelivered: bool) -> Execution | None:
        for attempt in range(3):
            ex, definition = await change()
            if ex is None or definition is None:
                return ex
            changed = bool(ex.pending_events)
            try:
                if changed:
                    await call(self.app.save, ex)
            except RecordConflictError:  # another replica changed it first: again, on its new state
                if attempt == 2:
                    raise
                continue
            await self._after(ex, definition, changed or redelivered)
            return ex
        return None

    async def _after(self, ex: Execution, definition: Definition, perform: bool, synced: bool = False,
                     fresh: bool = False) -> None:
        if not synced:
            await self.index.sync(ex, self.clock())
        effect = effect_of(ex, definition) if perform else None
        if effect is None:
            return
        follow_up = await self.performer.perform(ex, effect, cause=None, fresh=fresh)
        if follow_up is not None:  # the effect failed before leaving (a refused message): go on now
            now = self.clock()
            if apply(ex, definition, follow_up, now):
                run(ex, definition, now)
            await call(self.app.save, ex)
            await self._after(ex, definition, True)

    def _lock(self, execution_id: str):
        return self._locks.hold(execution_id)


class KeyedLocks:
    """A lock per key, forgotten once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    @asynccontextmanager
    async def hold(self, key: str):
        self._users[key] += 1
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                self._locks.pop(key, None)

    @asynccontextmanager
    async def hold_all(self, keys: list[str]):
        """Every key's lock, taken in sorted order (two callers never wait for each other in a circle)."""
        async with AsyncExitStack() as stack:
            for key in sorted(keys):
                await stack.enter_async_context(self.hold(key))
            yield
