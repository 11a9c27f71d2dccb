"""Reconciliation with Meta: each account's templates as `GET /{waba_id}/message_templates` lists them,
compared with ours — on start, every `SWITCHBOARD_TEMPLATE_SYNC_HOURS`, and on `POST
/v1/templates/sync`. What differs is recorded on the template (and published, origin `sync`); only
what differs. A template made at Meta directly is imported, read-only; one of ours Meta no longer
lists is DELETED there."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from sqlalchemy import text

from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.logs import get_logger

from . import template_table as table
from .domain.template import MessageTemplate
from .domain.template_rules import CATEGORIES
from .templates import Templates, adopting, now

log = get_logger("conversations.template_sync")


@dataclass
class SyncReport:
    accounts: list[str] = field(default_factory=list)
    imported: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accounts": self.accounts, "imported": self.imported, "changed": self.changed,
                "unchanged": self.unchanged, "errors": self.errors}


def _decide(found: dict, at):
    status, category = str(found.get("status") or "PENDING"), str(found.get("category") or "")
    quality = (found.get("quality_score") or {}).get("score") if isinstance(found.get("quality_score"), dict) else None
    components = found.get("components") if isinstance(found.get("components"), list) else None

    def decide(t: MessageTemplate) -> None:
        t.meta_status(status, "sync", at, found.get("rejected_reason") if status == "REJECTED" else None)
        if category in CATEGORIES:
            t.meta_category(category, "sync", at)
        if quality:
            t.meta_quality(str(quality), "sync", at)
        if components is not None:
            t.meta_components(components, at)
    return decide


class TemplateSync:
    def __init__(self, templates: Templates, interval_hours: float, organizations):
        self.templates, self.interval = templates, interval_hours * 3600
        self.organizations = organizations  # () → the organizations that have Meta senders
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="template-sync")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            for org_id in await self.organizations():
                try:
                    await self.sync(org_id)
                except Exception as exc:  # one organization's trouble never stops the others' syncs
                    log.warning("template sync failed", orgid=org_id, error=repr(exc))
            await asyncio.sleep(self.interval)

    async def sync_account(self, org_id: str, waba_id: str) -> None:
        try:
            await self.sync(org_id, waba_id=waba_id)
        except Exception as exc:  # a background sync: logged, tried again at the next one
            log.warning("template sync failed", orgid=org_id, waba_id=waba_id, error=repr(exc))

    async def sync(self, org_id: str, sender_id: str | None = None, waba_id: str | None = None) -> SyncReport:
        """Sync the organization's accounts (or the one of `sender_id`, or `waba_id`)."""
        senders = await self.templates.directory.account_senders(org_id, waba_id)
        if sender_id is not None:
            senders = [s for s in senders if s.id == sender_id]
        report, seen = SyncReport(), set()
        for s in senders:
            if s.waba_id in seen:
                continue
            seen.add(s.waba_id)
            report.accounts.append(s.waba_id)
            try:
                found, whole = await self.templates.meta.list(org_id, s.id)
            except ApiError as exc:
                report.errors.append({"waba_id": s.waba_id, "code": exc.code, "message": exc.message})
                continue
            except Exception as exc:  # MetaRefused: Meta said no (a revoked token, say)
                report.errors.append({"waba_id": s.waba_id, "code": "graph_api_error", "message": str(exc)})
                continue
            await self._account(org_id, s.id, s.waba_id, found, report, whole)
        return report

    async def _account(self, org_id: str, sender_id: str, waba_id: str, found: list[dict], report: SyncReport,
                       whole: bool):
        at, listed = now(), set()
        for item in found:
            meta_id = str(item.get("id") or "")
            if not meta_id or not item.get("name") or not item.get("language"):
                continue
            listed.add(meta_id)
            changed = await self.templates.apply(org_id, waba_id, meta_id, item["name"], item["language"],
                                                 adopting(meta_id, _decide(item, at)))
            if changed is None and await self.templates.imported(_imported(org_id, sender_id, waba_id, item, at)):
                report.imported += 1
            elif changed:
                report.changed += 1
            else:
                report.unchanged += 1
        if not whole:  # a template missing from a partial list may be on a page not read
            return
        async with self.templates.engine.connect() as conn:
            ours = list(await conn.execute(text(
                f"SELECT meta_template_id FROM {table.T} WHERE org_id = :org AND waba_id = :waba "
                "AND meta_template_id IS NOT NULL AND status <> 'DELETED'"), {"org": org_id, "waba": waba_id}))
        for r in ours:  # Meta lists it no more: deleted there
            if r.meta_template_id not in listed and await self.templates.apply(
                    org_id, waba_id, r.meta_template_id, None, None, lambda t: t.meta_status("DELETED", "sync", at)):
                report.changed += 1


def _imported(org_id: str, sender_id: str, waba_id: str, item: dict, at) -> MessageTemplate:
    category = item.get("category") if item.get("category") in CATEGORIES else "UTILITY"
    t = MessageTemplate(org_id=org_id, sender_id=sender_id, waba_id=waba_id, name=item["name"],
                        language=item["language"], category=category,
                        parameter_format=item.get("parameter_format") or "POSITIONAL",
                        components=item.get("components") if isinstance(item.get("components"), list) else [],
                        status=str(item.get("status") or "PENDING"), read_only=True,
                        meta_template_id=str(item["id"]), actor={"type": "system", "id": "meta_sync"}, at=at)
    quality = item.get("quality_score")
    if isinstance(quality, dict) and quality.get("score"):
        t.meta_quality(str(quality["score"]), "sync", at)
    return t
