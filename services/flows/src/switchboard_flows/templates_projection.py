"""Each organization's templates as their events tell them (`flows__templates`, into `flows.templates`):
(account, name, language) → status, parameter format and Meta's components, with our template id and
Meta's when known. From the conversations service's `template.created|edited|imported` (the whole
definition), `template.submitted|deleted` (a status) and Meta's `template.status_changed` — as
webhook-ingest publishes it (no template id) or as the conversations service's sync does — alike. The
reports of two publishers may cross in the stream: a status older (`at`) than the one recorded changes
nothing, nor does a definition older than the one recorded; so neither does a repeat. `sender.registered`
teaches each sender's provider and business account (`flows.senders`). A flow's template send reads both
(`template_sends.py`)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts import sender, template
from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from .tables import SCHEMA

T = f"{SCHEMA}.templates"
RECORD = text(f"""
    INSERT INTO {T} AS t (org_id, waba_id, name, language, status, status_at, parameter_format, components,
                          defined_at, template_id, meta_template_id)
    VALUES (:org, :waba, :name, :language, :status, :at, :format, CAST(:components AS jsonb), :defined_at,
            :template_id, :meta_id)
    ON CONFLICT (org_id, waba_id, name, language) DO UPDATE SET
        status = CASE WHEN excluded.status_at >= t.status_at THEN excluded.status ELSE t.status END,
        status_at = greatest(excluded.status_at, t.status_at),
        parameter_format = CASE WHEN excluded.defined_at >= coalesce(t.defined_at, '-infinity')
                                THEN excluded.parameter_format ELSE t.parameter_format END,
        components = CASE WHEN excluded.defined_at >= coalesce(t.defined_at, '-infinity')
                          THEN excluded.components ELSE t.components END,
        defined_at = greatest(excluded.defined_at, t.defined_at),
        template_id = coalesce(excluded.template_id, t.template_id),
        meta_template_id = coalesce(excluded.meta_template_id, t.meta_template_id),
        updated_at = now()""")
BY_META_ID = text(f"""SELECT name, language FROM {T}
                      WHERE org_id = :org AND waba_id = :waba AND meta_template_id = :meta_id LIMIT 1""")
SENDER = text(f"""
    INSERT INTO {SCHEMA}.senders (org_id, sender_id, provider, waba_id) VALUES (:org, :id, :provider, :waba)
    ON CONFLICT (org_id, sender_id) DO UPDATE SET provider = excluded.provider, waba_id = excluded.waba_id""")
DEFINED = (template.CREATED, template.EDITED, template.IMPORTED)
NO_DEFINITION = {"format": None, "components": None, "defined_at": None}


def normal(status: str) -> str:
    return status.strip().upper()


class TemplatesProjection:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        async with self.engine.begin() as conn:
            for d in deliveries:
                try:
                    ce = d.event()
                    if ce.type == sender.REGISTERED:
                        s = sender.SenderRegistered.model_validate(ce.data)
                        meta = s.provider == sender.Provider.META_CLOUD
                        await conn.execute(SENDER, {"org": ce.orgid, "id": s.sender_id, "provider": s.provider.value,
                                                    "waba": s.waba_id if meta else None})
                    else:
                        await self._record(conn, ce)
                except (BadMessage, ValidationError, KeyError, TypeError) as exc:
                    outcome.reject(d, f"invalid template event: {exc}")
        return outcome

    async def _record(self, conn: AsyncConnection, ce: CloudEvent) -> None:
        data = ce.data
        fields: dict[str, Any]
        if ce.type in DEFINED:
            e = template.TemplateDefined.model_validate(data)
            fields = {"status": e.status, "template_id": e.template_id, "meta_id": e.meta_template_id,
                      "format": e.parameter_format, "components": json.dumps(e.components), "defined_at": e.at}
        elif ce.type == template.SUBMITTED:
            e = template.TemplateSubmitted.model_validate(data)
            fields = {"status": e.status, "template_id": e.template_id, "meta_id": e.meta_template_id, **NO_DEFINITION}
        elif ce.type == template.DELETED:
            e = template.TemplateDeleted.model_validate(data)
            fields = {"status": "DELETED", "template_id": e.template_id, "meta_id": None, **NO_DEFINITION}
        elif ce.type == template.STATUS_CHANGED:
            await self._meta_status(conn, ce.orgid, template.TemplateStatusChanged.model_validate(data))
            return
        else:
            return
        await conn.execute(RECORD, {"org": ce.orgid, "waba": e.waba_id, "name": e.name, "language": e.language,
                                    **fields, "status": normal(fields["status"]), "at": e.at})

    async def _meta_status(self, conn: AsyncConnection, org: str, e: template.TemplateStatusChanged) -> None:
        name, language = e.message_template_name, e.message_template_language
        if not (name and language):  # Meta names them; a report without them is found by Meta's id
            row = (await conn.execute(BY_META_ID, {"org": org, "waba": e.waba_id,
                                                   "meta_id": e.message_template_id})).first()
            if row is None:
                return  # a template we know nothing of, by a report that does not name it
            name, language = row.name, row.language
        await conn.execute(RECORD, {"org": org, "waba": e.waba_id, "name": name, "language": language,
                                    "status": normal(e.event), "at": e.at, "template_id": e.template_id,
                                    "meta_id": e.message_template_id, **NO_DEFINITION})
