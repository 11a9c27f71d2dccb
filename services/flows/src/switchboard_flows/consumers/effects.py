"""`flow.effect` commands: an execution step's HTTP call or e-mail. Each runs in a task of its own
(one hanging server never delays another execution), tells JetStream it is still in progress while
it runs, and is acked once its outcome is recorded in the execution — a crash mid-call performs it
again (HTTP calls carry an Idempotency-Key, e-mails a deterministic Message-ID, for the receiver)."""

from __future__ import annotations

import asyncio
import contextlib

from pydantic import ValidationError

from switchboard_contracts.flow import PerformEffect
from switchboard_runtime.eventstore import call
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from ..domain.executor import effect_of
from ..domain.inputs import Call, EffectDone
from ..effects.email import Mailer
from ..effects.http_call import HttpCaller, HttpRequest
from ..engine import Engine

log = get_logger(__name__)
PROGRESS_SECONDS = 3.0  # well inside the consumer's ack wait (10 s)


class Effects:
    def __init__(self, engine: Engine, http: HttpCaller, mailer: Mailer):
        self.engine, self.http, self.mailer = engine, http, mailer
        self._tasks: set[asyncio.Task] = set()

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        for d in deliveries:
            try:
                cmd = PerformEffect.model_validate(d.event().data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"not a flow.effect command: {exc}")
                continue
            outcome.defer(d)
            task = asyncio.create_task(self._run(d, cmd), name=f"effect {cmd.execution_id}:{cmd.step}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return outcome

    async def stop(self) -> None:
        for task in list(self._tasks):  # unacked: redelivered to whoever runs next
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, d: Delivery, cmd: PerformEffect) -> None:
        progress = asyncio.create_task(_keep_in_progress(d))
        try:
            done = await self._perform(cmd)
            if done is not None:
                await self.engine.deliver(cmd.execution_id, done)
            await d.raw.ack()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - redelivered (then dead-lettered) rather than lost
            log.warning("flow effect failed; it will be retried", execution_id=cmd.execution_id, error=repr(exc))
            await d.raw.nak(delay=min(2.0 ** d.num_delivered, 60.0))
        finally:
            progress.cancel()

    async def _perform(self, cmd: PerformEffect) -> EffectDone | None:
        ex = await call(self.engine.app.execution, cmd.execution_id)
        if ex is None or ex.waiting is None or ex.waiting.get("step") != cmd.step:
            return None  # done already (a redelivery), or the execution moved on
        definition = await self.engine.revisions.get(ex.flow_id, ex.revision)
        effect = effect_of(ex, definition) if definition is not None else None
        if not isinstance(effect, Call):
            return None
        input_id = f"effect:{cmd.execution_id}:{cmd.step}"
        if effect.kind == "http":
            request = effect.request
            outcome = await self.http.call(HttpRequest(
                method=request["method"], url=request["url"], headers=request.get("headers") or {},
                body=request.get("body"), timeout_seconds=float(request.get("timeout_seconds") or 10),
                retries=int(request.get("retries", 2)), idempotency_key=input_id))
            detail = {"status": outcome.status, "attempts": outcome.attempts, "latency_ms": outcome.duration_ms,
                      **({"reason": outcome.error} if outcome.error else {})}
            result = {"status": outcome.status, "body": outcome.body, "json": outcome.json}
            return EffectDone(input_id=input_id, step=cmd.step, ok=outcome.ok, detail=detail, result=result)
        request = effect.request
        sent = await self.mailer.send(to=request["to"], subject=request["subject"], body=request["body"],
                                      message_key=input_id)
        detail = {"to": request["to"], **({"reason": sent.error} if sent.error else {})}
        return EffectDone(input_id=input_id, step=cmd.step, ok=sent.ok, detail=detail)


async def _keep_in_progress(d: Delivery) -> None:
    with contextlib.suppress(Exception):
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            await d.raw.in_progress()
