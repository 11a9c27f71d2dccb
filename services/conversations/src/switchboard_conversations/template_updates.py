"""Meta's template reports, as webhook-ingest publishes them (`template.status_changed`,
`quality_changed`, `category_changed`, origin `webhook`), applied to the template each names. A report
about a template we do not know (made at Meta directly, not synced yet) starts a sync of its account,
which imports it. The service's own reports (origin `sync`) come back here too and are passed over."""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from switchboard_contracts import template as contract
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from .templates import Templates, adopting

log = get_logger("conversations.template_updates")
MODELS = {contract.STATUS_CHANGED: contract.TemplateStatusChanged,
          contract.QUALITY_CHANGED: contract.TemplateQualityChanged,
          contract.CATEGORY_CHANGED: contract.TemplateCategoryChanged}


def change_of(report):
    """What the report changes, as a decision on the template."""
    if isinstance(report, contract.TemplateStatusChanged):
        details = {k: v for k in ("disable_info", "other_info") if (v := getattr(report, k)) is not None}
        return lambda t: t.meta_status(report.event, "webhook", report.at, report.reason, details)
    if isinstance(report, contract.TemplateQualityChanged):
        return lambda t: t.meta_quality(report.new_quality_score, "webhook", report.at)
    return lambda t: t.meta_category(report.new_category, "webhook", report.at)


class TemplateUpdates:
    def __init__(self, templates: Templates, sync_account):
        self.templates = templates
        self.sync_account = sync_account  # (org_id, waba_id) → a sync of that account, in the background
        self._syncs: set[asyncio.Task] = set()

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        for d in deliveries:
            try:
                ce = d.event()
                report = MODELS[ce.type].model_validate(ce.data)
            except (BadMessage, ValidationError, KeyError) as exc:
                outcome.reject(d, f"not a template report this service understands: {exc}")
                continue
            if report.origin != "webhook":
                continue
            known = await self.templates.apply(ce.orgid, report.waba_id, report.message_template_id,
                                               report.message_template_name, report.message_template_language,
                                               adopting(report.message_template_id, change_of(report)))
            if not known:
                log.info("report for a template we do not know: syncing its account", orgid=ce.orgid,
                         waba_id=report.waba_id, message_template_id=report.message_template_id)
                task = asyncio.create_task(self.sync_account(ce.orgid, report.waba_id))
                self._syncs.add(task)
                task.add_done_callback(self._syncs.discard)
        return outcome
