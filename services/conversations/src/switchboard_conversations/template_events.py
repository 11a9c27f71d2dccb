"""Template domain events as public CloudEvents (for the relay; each domain event repeats the
template's names, so each is published on its own). A status, quality or category change that came
from Meta's webhook is not published again: webhook-ingest published Meta's report already
(`template.status_changed` without our `template_id`); one a sync found is published, with it."""

from __future__ import annotations

from switchboard_contracts import template as contract
from switchboard_contracts.envelope import EncodedEvent, encode_envelope
from switchboard_contracts.ids import aggregate_event_id

from .domain.template import MessageTemplate as T

SOURCE = "switchboard/conversations"


def _change(e) -> dict:
    return {"template_id": str(e.originator_id), "version": e.originator_version, "at": e.at, "actor": e.actor,
            "waba_id": e.waba_id, "name": e.name, "language": e.language}


def _defined(e) -> contract.TemplateDefined:
    return contract.TemplateDefined(**_change(e), sender_id=e.sender_id, category=e.category,
                                    parameter_format=e.parameter_format, components=e.components,
                                    status=e.status, read_only=e.read_only, meta_template_id=e.meta_template_id)


def _meta_report(e):
    fact = {"waba_id": e.waba_id, "message_template_id": e.meta_template_id, "message_template_name": e.name,
            "message_template_language": e.language, "origin": e.origin, "at": e.at,
            "template_id": str(e.originator_id), "version": e.originator_version}
    if isinstance(e, T.StatusChanged):
        details = e.details or {}
        return contract.STATUS_CHANGED, contract.TemplateStatusChanged(
            **fact, event=e.status, previous_status=e.previous_status, reason=e.reason,
            disable_info=details.get("disable_info"), other_info=details.get("other_info"))
    if isinstance(e, T.QualityChanged):
        return contract.QUALITY_CHANGED, contract.TemplateQualityChanged(
            **fact, previous_quality_score=e.previous_score, new_quality_score=e.score)
    return contract.CATEGORY_CHANGED, contract.TemplateCategoryChanged(
        **fact, previous_category=e.previous_category, new_category=e.category)


def template_cloudevent(e) -> EncodedEvent | None:
    if isinstance(e, T.Created):
        type_, data = (contract.IMPORTED if e.read_only else contract.CREATED), _defined(e)
    elif isinstance(e, T.Edited):
        type_, data = contract.EDITED, _defined(e)
    elif isinstance(e, T.Submitted):
        type_, data = contract.SUBMITTED, contract.TemplateSubmitted(
            **_change(e), meta_template_id=e.meta_template_id, status=e.status, category=e.category)
    elif isinstance(e, T.Deleted):
        type_, data = contract.DELETED, contract.TemplateDeleted(**_change(e))
    elif isinstance(e, (T.StatusChanged, T.QualityChanged, T.CategoryChanged)):
        if e.origin == "webhook" or not e.meta_template_id:
            return None
        type_, data = _meta_report(e)
    else:
        return None
    tid = str(e.originator_id)
    return encode_envelope(id=aggregate_event_id(tid, e.originator_version), source=SOURCE, type=type_,
                           orgid=e.org_id, data=data, subject=tid, time=e.timestamp)
