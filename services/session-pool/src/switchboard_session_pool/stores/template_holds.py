"""Templates on hold, shared by every replica through the KV bucket `sb_template_holds`: the consumer
`session_pool__templates` records each of Meta's `template.status_changed` reports there (by
compare-and-set, the newest report per template wins), and every replica keeps the held ones in memory
from a live watch of the bucket — a PAUSED template's messages wait, a DISABLED one's fail as
`template_disabled` (dispatch/template_gate.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from pydantic import ValidationError

from switchboard_contracts.template import TemplateStatusChanged
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from ..domain.template_hold import TemplateKey, TemplateReport, report_of

log = get_logger(__name__)
ATTEMPTS = 20  # compare-and-set rounds before the batch is retried (another replica kept writing)


class TemplateHolds:
    def __init__(self, kv, on_change=lambda: None, load_timeout: float = 10.0):
        self.kv, self.on_change, self.load_timeout = kv, on_change, load_timeout
        self.holds: dict[TemplateKey, str] = {}  # template → "PAUSED" | "DISABLED"
        self._keys: dict[str, TemplateKey] = {}  # KV key → its template (a purge names only the key)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Follow the bucket; return once its current entries are in memory (before sends are taken)."""
        loaded = asyncio.Event()
        watcher = await self.kv.watchall()
        self._task = asyncio.create_task(self._follow(watcher, loaded), name="template-holds")
        try:
            await asyncio.wait_for(loaded.wait(), self.load_timeout)
        except TimeoutError:
            log.warning("template holds not loaded in time; following them as they come")

    async def _follow(self, watcher, loaded: asyncio.Event) -> None:
        async for entry in watcher:  # initial values, then a None marker, then live updates
            if entry is None:
                loaded.set()
                continue
            report = _read(entry.value) if entry.operation is None else None
            if report is not None:
                self._keys[entry.key] = report.key
            key = report.key if report is not None else self._keys.pop(entry.key, None)
            if key is None:
                continue
            hold = report.hold if report is not None else None  # a purged entry holds nothing
            before = self.holds.pop(key, None) if hold is None else self.holds.get(key)
            if hold is not None:
                self.holds[key] = hold
            if before != hold:
                self.on_change()

    def of(self, org_id: str, waba_id: str, name: str, language: str) -> str | None:
        """"PAUSED", "DISABLED" or None for one template of an account."""
        if not self.holds:
            return None
        return self.holds.get(TemplateKey(org_id, waba_id, name, language))

    # --- the consumer of Meta's reports -----------------------------------------------------------

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        """Consumer of `template.status_changed` (both origins): record each report, in stream order."""
        outcome = BatchOutcome()
        for d in deliveries:
            try:
                ce = d.event()
                data = TemplateStatusChanged.model_validate(ce.data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"not a template.status_changed event: {exc}")
                continue
            report = report_of(ce.orgid, data.waba_id, data.message_template_name,
                               data.message_template_language, data.event, data.at)
            if report is None:  # Meta names every template it reports; without a name nothing can wait on it
                log.info("template report without name or language", orgid=ce.orgid, waba_id=data.waba_id,
                         meta_template_id=data.message_template_id)
                continue
            await self.record(report)
        return outcome

    async def record(self, report: TemplateReport) -> bool:
        """Record the report unless the bucket holds a newer (or the same) one: whether it was written."""
        key, value = report.key.kv_key, json.dumps(report.to_json(), separators=(",", ":")).encode()
        for attempt in range(ATTEMPTS):
            try:
                entry = await self.kv.get(key)
            except KeyNotFoundError:
                entry = None
            recorded = _read(entry.value) if entry is not None else None  # unreadable: overwritten
            if not report.replaces(recorded):
                return False
            try:
                if entry is not None:
                    await self.kv.update(key, value, last=entry.revision)
                else:
                    await self.kv.create(key, value)
                return True
            except KeyWrongLastSequenceError:  # another replica wrote it first: read again
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise RuntimeError(f"template hold {key} kept changing")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _read(value: bytes | None) -> TemplateReport | None:
    if not value:
        return None
    try:
        return TemplateReport.from_json(json.loads(value))
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable template hold entry")
        return None
