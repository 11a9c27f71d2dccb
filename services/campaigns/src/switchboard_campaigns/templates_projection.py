"""Each organization's templates as their events tell them (`campaigns__templates`): (account, name,
language) → status and definition (parameter format, Meta's components), with our template id and Meta's
when known. From the conversations service's `template.created|edited|imported` (the whole definition),
`template.submitted|deleted` and from Meta's `template.status_changed` — as webhook-ingest publishes it (no
template id) or as the conversations service's sync does — alike. The reports of two publishers may cross
in the stream: a status older (`at`) than the one recorded changes nothing, nor does a definition older
than the one recorded, so neither does a repeat. `sender.registered` is read too, so that senders the
directory knew of before it kept their business account learn it (this consumer replays the stream from its
start). A campaign's parameters are checked against the definition (`template_usage.py`) and its messages
filled in by it (`runner.py`). After each batch the campaigns that send a touched template follow its
status (`template_holds.py`)."""

from __future__ import annotations

import json

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts import sender, template
from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from .domain.template_status import normal
from .sender_directory import ACCOUNT, account_of
from .tables import SCHEMA
from .template_holds import TemplateHolds
from .template_usage import TemplateKey

T = f"{SCHEMA}.templates"
RECORD = text(f"""
    INSERT INTO {T} AS t (org_id, waba_id, name, language, status, status_at, template_id, meta_template_id,
                          parameter_format, components, defined_at)
    VALUES (:org, :waba, :name, :language, :status, :at, :template_id, :meta_id,
            :format, CAST(:components AS jsonb), :defined_at)
    ON CONFLICT (org_id, waba_id, name, language) DO UPDATE SET
        status = CASE WHEN excluded.status_at >= t.status_at THEN excluded.status ELSE t.status END,
        status_at = greatest(excluded.status_at, t.status_at), updated_at = now(),
        template_id = coalesce(excluded.template_id, t.template_id),
        meta_template_id = coalesce(excluded.meta_template_id, t.meta_template_id),
        parameter_format = CASE WHEN excluded.defined_at >= coalesce(t.defined_at, '-infinity')
                                THEN excluded.parameter_format ELSE t.parameter_format END,
        components = CASE WHEN excluded.defined_at >= coalesce(t.defined_at, '-infinity')
                          THEN excluded.components ELSE t.components END,
        defined_at = greatest(excluded.defined_at, t.defined_at)""")
BY_META_ID = text(f"""SELECT name, language FROM {T}
                      WHERE org_id = :org AND waba_id = :waba AND meta_template_id = :meta_id LIMIT 1""")
DEFINED = (template.CREATED, template.EDITED, template.IMPORTED)
NO_DEFINITION = {"format": None, "components": None, "defined_at": None}  # a status alone


class TemplatesProjection:
    def __init__(self, engine: AsyncEngine, holds: TemplateHolds):
        self.engine, self.holds = engine, holds

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome, touched = BatchOutcome(), {}
        async with self.engine.begin() as conn:
            for d in deliveries:
                try:
                    ce = d.event()
                    if ce.type == sender.REGISTERED:
                        s = sender.SenderRegistered.model_validate(ce.data)
                        await conn.execute(ACCOUNT, {"id": s.sender_id, **account_of(s)})
                    elif (key := await self._record(conn, ce)) is not None:
                        touched[key] = None
                except (BadMessage, ValidationError, KeyError, TypeError) as exc:
                    outcome.reject(d, f"invalid template event: {exc}")
        for key in touched:  # after the commit: a failure here redelivers the batch, which records nothing new
            await self.holds.follow(key)
        return outcome

    async def _record(self, conn: AsyncConnection, ce: CloudEvent) -> TemplateKey | None:
        data = ce.data
        if ce.type in DEFINED:
            e = template.TemplateDefined.model_validate(data)
            fields = {"status": e.status, "template_id": e.template_id, "meta_id": e.meta_template_id,
                      "format": e.parameter_format, "components": json.dumps(e.components), "defined_at": e.at}
        elif ce.type == template.SUBMITTED:
            e = template.TemplateSubmitted.model_validate(data)
            fields = {"status": e.status, "template_id": e.template_id, "meta_id": e.meta_template_id,
                      **NO_DEFINITION}
        elif ce.type == template.DELETED:
            e = template.TemplateDeleted.model_validate(data)
            fields = {"status": "DELETED", "template_id": e.template_id, "meta_id": None, **NO_DEFINITION}
        elif ce.type == template.STATUS_CHANGED:
            return await self._meta_status(conn, ce.orgid, template.TemplateStatusChanged.model_validate(data))
        else:
            return None
        key = TemplateKey(ce.orgid, e.waba_id, e.name, e.language)
        await conn.execute(RECORD, {**key.params(), **fields, "status": normal(fields["status"]), "at": e.at})
        return key

    async def _meta_status(self, conn: AsyncConnection, org: str, e: template.TemplateStatusChanged) -> TemplateKey | None:
        name, language = e.message_template_name, e.message_template_language
        if not (name and language):  # Meta names them; a report without them is found by Meta's id
            row = (await conn.execute(BY_META_ID, {"org": org, "waba": e.waba_id,
                                                   "meta_id": e.message_template_id})).first()
            if row is None:
                return None  # a template we know nothing of, by a report that does not name it
            name, language = row.name, row.language
        key = TemplateKey(org, e.waba_id, name, language)
        await conn.execute(RECORD, {**key.params(), "status": normal(e.event), "at": e.at,
                                    "template_id": e.template_id, "meta_id": e.message_template_id,
                                    **NO_DEFINITION})
        return key
