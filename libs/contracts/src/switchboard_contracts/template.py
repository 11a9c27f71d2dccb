"""Template events (v1). Meta's own reports, as webhook-ingest receives them (`origin: "webhook"`,
source `switchboard/webhook-ingest`, no `template_id`: ingest keeps no state) or as the conversations
service's reconciliation finds them (`origin: "sync"`, with our `template_id` and `version`):
`template.status_changed`, `template.quality_changed`, `template.category_changed` — Meta's field
names. And the template aggregate's own history (conversations service): `template.created`,
`template.edited`, `template.imported` (found at Meta on a sync, read-only), `template.submitted`,
`template.deleted`, each with the template's `version` and the `actor`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from .actor import Actor
from .envelope import event_type
from .ids import deterministic_id

ENTITY = "template"
CREATED = event_type(ENTITY, "created")
EDITED = event_type(ENTITY, "edited")
IMPORTED = event_type(ENTITY, "imported")
SUBMITTED = event_type(ENTITY, "submitted")
DELETED = event_type(ENTITY, "deleted")
STATUS_CHANGED = event_type(ENTITY, "status_changed")
QUALITY_CHANGED = event_type(ENTITY, "quality_changed")
CATEGORY_CHANGED = event_type(ENTITY, "category_changed")
META_UPDATES = ("status_changed", "quality_changed", "category_changed")  # what webhook-ingest publishes

# Meta's webhook field → our event name
WEBHOOK_FIELDS = {"message_template_status_update": "status_changed",
                  "message_template_quality_update": "quality_changed",
                  "template_category_update": "category_changed"}

Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
ParameterFormat = Literal["POSITIONAL", "NAMED"]
# Meta's statuses (its webhook's `event`); DRAFT is ours: not submitted yet. Meta may add more: the
# events carry a plain string.
STATUSES = ("DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED", "FLAGGED", "IN_APPEAL",
            "ARCHIVED", "DELETED", "PENDING_DELETION", "LIMIT_EXCEEDED", "LOCKED", "REINSTATED")
Origin = Literal["webhook", "sync", "submit"]


def template_id_at_meta(orgid: str, waba_id: str, meta_template_id: str) -> str:
    """The id a template made at Meta directly gets when a sync finds it (the same on every sync)."""
    return deterministic_id("template", orgid, waba_id, meta_template_id)


class MetaTemplateFact(BaseModel):
    """What each of Meta's template reports names."""

    waba_id: str
    message_template_id: str
    message_template_name: str | None = None
    message_template_language: str | None = None
    origin: Origin = "webhook"
    at: datetime  # when Meta's report arrived, or the sync found the change
    template_id: str | None = None  # ours, when the conversations service emits it
    version: int | None = None  # the template's version after the change (ours)


class TemplateStatusChanged(MetaTemplateFact):
    event: str  # the new status: APPROVED, REJECTED, PAUSED, DISABLED, ...
    previous_status: str | None = None  # known only to the conversations service
    reason: str | None = None
    message_template_category: str | None = None
    disable_info: dict[str, Any] | None = None
    other_info: dict[str, Any] | None = None


class TemplateQualityChanged(MetaTemplateFact):
    previous_quality_score: str | None = None
    new_quality_score: str  # GREEN, YELLOW, RED, UNKNOWN


class TemplateCategoryChanged(MetaTemplateFact):
    previous_category: str | None = None
    new_category: str
    correct_category: str | None = None


class TemplateChange(BaseModel):
    """What every event of the template aggregate carries."""

    template_id: str
    version: int
    at: datetime
    actor: Actor
    waba_id: str
    name: str
    language: str


class TemplateDefined(TemplateChange):
    """`created`, `edited`, `imported`: the template as it is after the change."""

    sender_id: str
    category: Category
    parameter_format: ParameterFormat
    components: list[dict[str, Any]] = Field(default_factory=list)  # Meta's component objects
    status: str
    read_only: bool = False
    meta_template_id: str | None = None


class TemplateSubmitted(TemplateChange):
    """Meta accepted the template for review: its answer `{id, status, category}`."""

    meta_template_id: str
    status: str
    category: str


class TemplateDeleted(TemplateChange):
    pass
