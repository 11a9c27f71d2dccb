"""Meta's template updates (`message_template_status_update`, `message_template_quality_update`,
`template_category_update`) → `template.status_changed`, `.quality_changed`, `.category_changed`: one
fact per organization with senders in the WABA the entry names. A fact's id derives from the
organization, the WABA, the field, the entry's `time` and the change's value (canonical JSON): Meta's
retry of a delivery is the same fact, a later change (even back to the same value) a new one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from switchboard_contracts import template
from switchboard_contracts.ids import deterministic_id

from .facts import Fact, NotADelivery, fact
from .meta_delivery import Delivery, check_object

MODELS: dict[str, type[template.MetaTemplateFact]] = {
    "status_changed": template.TemplateStatusChanged,
    "quality_changed": template.TemplateQualityChanged,
    "category_changed": template.TemplateCategoryChanged,
}
TYPES = {"status_changed": template.STATUS_CHANGED, "quality_changed": template.QUALITY_CHANGED,
         "category_changed": template.CATEGORY_CHANGED}
REQUIRED = {"status_changed": "event", "quality_changed": "new_quality_score", "category_changed": "new_category"}
# Ours, never taken from Meta's value (the id is converted: Meta sends a number)
NOT_META = {"waba_id", "origin", "at", "template_id", "version", "previous_status", "message_template_id"}


@dataclass(frozen=True)
class TemplateUpdate:
    where: str  # `entry.<i>.changes.<j>.value`, to say what is wrong with it
    waba_id: str
    field: str
    time: Any  # the entry's `time`, as Meta sent it
    value: Any

    @property
    def name(self) -> str:
        return template.WEBHOOK_FIELDS[self.field]


def template_updates(delivery: Delivery) -> list[TemplateUpdate]:
    """Every template change of a delivery, in order."""
    check_object(delivery)
    return [TemplateUpdate(f"entry.{i}.changes.{j}.value", entry.id, change.field, entry.time, change.value)
            for i, entry in enumerate(delivery.entry)
            for j, change in enumerate(entry.changes) if change.field in template.WEBHOOK_FIELDS]


def template_wabas(delivery: Delivery) -> set[str]:
    """The WABA ids whose entries carry template updates."""
    return {entry.id for entry in delivery.entry
            if any(change.field in template.WEBHOOK_FIELDS for change in entry.changes)}


def raw_template_wabas(doc: object) -> set[str]:
    """The same, from a parsed body that is not a valid delivery (to pick the secret that signed it)."""
    entries = doc.get("entry") if isinstance(doc, dict) else None
    wabas: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(changes, list) and any(
                isinstance(c, dict) and c.get("field") in template.WEBHOOK_FIELDS for c in changes):
            wabas.add(entry["id"])
    return wabas


def _data(update: TemplateUpdate, received_at: datetime) -> template.MetaTemplateFact:
    value = update.value
    if not isinstance(value, dict):
        raise NotADelivery(f"{update.where}: a {update.field} value must be an object")
    for required in ("message_template_id", REQUIRED[update.name]):
        if value.get(required) is None:
            raise NotADelivery(f"{update.where}.{required}: missing")
    meta_id = value["message_template_id"]
    if isinstance(meta_id, bool) or not isinstance(meta_id, int | str) or str(meta_id).strip() == "":
        raise NotADelivery(f"{update.where}.message_template_id: {meta_id!r} is not an id")
    model = MODELS[update.name]
    fields = {k: v for k, v in value.items() if k in model.model_fields and k not in NOT_META}
    try:
        return model(**fields, waba_id=update.waba_id, message_template_id=str(meta_id), origin="webhook",
                     at=received_at)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise NotADelivery(f"{update.where}.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_id(org_id: str, update: TemplateUpdate) -> str:
    return deterministic_id("meta-template-update", org_id, update.waba_id, update.field,
                            _canonical(update.time), _canonical(update.value))


def _when(time: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(time), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


def normalize_templates(delivery: Delivery, orgs: dict[str, list[str]],
                        received_at: datetime) -> tuple[list[Fact], set[str]]:
    """Facts for the template updates of known WABAs (`orgs`: WABA id → the organizations it is
    published to), and the WABA ids no sender has. A malformed update of a known WABA: NotADelivery."""
    facts: list[Fact] = []
    unknown: set[str] = set()
    for update in template_updates(delivery):
        if not orgs.get(update.waba_id):
            unknown.add(update.waba_id)
            continue
        data = _data(update, received_at)
        for org_id in orgs[update.waba_id]:
            facts.append(fact(id=event_id(org_id, update), type=TYPES[update.name], orgid=org_id, data=data,
                              subject=data.message_template_id, time=_when(update.time, received_at)))
    return facts, unknown
