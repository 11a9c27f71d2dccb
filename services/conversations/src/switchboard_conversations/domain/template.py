"""The MessageTemplate aggregate: one template of a WhatsApp Business Account (name + language), as we
made it (a DRAFT until submitted) or as a sync found it at Meta (read-only) — its whole history:
created, edited, submitted, every status, quality and category Meta gave it, deleted. Pure: each
decision takes the time (`at`) and who makes it (`actor`); Meta's reports take where they came from
(`origin`: its webhook, a sync, or its answer to a submit)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from switchboard_contracts.template import template_id_at_meta

from .errors import InvalidChange

# Where a template may be edited: before Meta has it, or when Meta's answer allows a new version
# (Meta takes an edit of an APPROVED, REJECTED or PAUSED template and reviews it again).
EDITABLE = {"DRAFT", "APPROVED", "REJECTED", "PAUSED"}
# What may be sent: APPROVED, and FLAGGED (Meta's warning of low quality: it still sends until it is paused)
SENDABLE = ("APPROVED", "FLAGGED")


class ReadOnly(Exception):
    """A template made at Meta directly: changed only there (409 at the API)."""


class NotNow(Exception):
    """The template's status does not allow this now (409 at the API)."""


class MessageTemplate(Aggregate):
    @staticmethod
    def create_id(org_id: str, waba_id: str, meta_template_id: str | None, read_only: bool) -> UUID:
        """Random for a template made here; for one a sync found at Meta, the same on every sync."""
        if read_only and meta_template_id:
            return UUID(template_id_at_meta(org_id, waba_id, meta_template_id))
        return uuid4()

    @event("Created")
    def __init__(self, org_id: str, sender_id: str, waba_id: str, name: str, language: str, category: str,
                 parameter_format: str, components: list[dict], status: str, read_only: bool,
                 meta_template_id: str | None, actor: dict, at: datetime):
        self.org_id, self.sender_id, self.waba_id = org_id, sender_id, waba_id
        self.name, self.language = name, language
        self.category, self.parameter_format, self.components = category, parameter_format, components
        self.status, self.read_only, self.meta_template_id = status, read_only, meta_template_id
        self.quality_score: str | None = None
        self.reason: str | None = None
        self.deleted = False

    # --- our decisions ------------------------------------------------------------------------

    def edit(self, category: str | None, components: list[dict] | None, actor: dict, at: datetime) -> bool:
        """Change the category or the components; True when it changed something. A submitted
        template's edit goes to Meta first (the caller's job) and is reviewed again (PENDING)."""
        self._writable()
        if self.status not in EDITABLE:
            raise NotNow(f"a {self.status} template cannot be edited now (Meta is reviewing it)")
        category = self.category if category is None else category
        components = self.components if components is None else components
        if (category, components) == (self.category, self.components):
            return False
        status = "DRAFT" if self.status == "DRAFT" else "PENDING"
        self._edited(**self._names(), category=category, components=components, status=status,
                     previous_status=self.status, actor=actor, at=at)
        return True

    def check_submit(self) -> None:
        self._writable()
        if self.status != "DRAFT":
            raise NotNow(f"the template was submitted already (it is {self.status})")

    def submitted(self, meta_template_id: str, status: str, category: str, actor: dict, at: datetime) -> None:
        self._submitted(**{**self._names(), "meta_template_id": meta_template_id}, status=status, category=category,
                        previous_status=self.status, actor=actor, at=at)

    def delete(self, actor: dict, at: datetime) -> None:
        if self.read_only:
            raise ReadOnly("a template made at Meta directly is deleted there")
        if not self.deleted:
            self._deleted(**self._names(), actor=actor, at=at)

    def _names(self) -> dict:
        """What every event repeats, so each can be published on its own."""
        return {"org_id": self.org_id, "sender_id": self.sender_id, "waba_id": self.waba_id, "name": self.name,
                "language": self.language, "parameter_format": self.parameter_format, "read_only": self.read_only,
                "meta_template_id": self.meta_template_id}

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnly("this template was made at Meta directly: change it there")
        if self.deleted:
            raise InvalidChange("template", "deleted")

    # --- what Meta reports --------------------------------------------------------------------

    def meta_status(self, status: str, origin: str, at: datetime, reason: str | None = None,
                    details: dict | None = None) -> None:
        if status != self.status and not self.deleted:
            self._status_changed(**self._names(), status=status, previous_status=self.status, reason=reason,
                                 details=details or {}, origin=origin, actor={"type": "system", "id": f"meta_{origin}"},
                                 at=at)

    def meta_quality(self, score: str, origin: str, at: datetime) -> None:
        if score != self.quality_score and not self.deleted:
            self._quality_changed(**self._names(), score=score, previous_score=self.quality_score, origin=origin,
                                  actor={"type": "system", "id": f"meta_{origin}"}, at=at)

    def meta_category(self, category: str, origin: str, at: datetime) -> None:
        if category != self.category and not self.deleted:
            self._category_changed(**self._names(), category=category, previous_category=self.category,
                                   origin=origin, actor={"type": "system", "id": f"meta_{origin}"}, at=at)

    def meta_components(self, components: list[dict], at: datetime) -> None:
        """A sync found other components at Meta for a template made there (read-only)."""
        if self.read_only and components != self.components and not self.deleted:
            self._edited(**self._names(), category=self.category, components=components, status=self.status,
                         previous_status=self.status, actor={"type": "system", "id": "meta_sync"}, at=at)

    # --- events -------------------------------------------------------------------------------

    @event("Edited")
    def _edited(self, org_id, sender_id, waba_id, name, language, parameter_format, read_only,
                 meta_template_id, category, components, status, previous_status, actor, at):
        self.category, self.components, self.status = category, components, status

    @event("Submitted")
    def _submitted(self, org_id, sender_id, waba_id, name, language, parameter_format, read_only,
                 meta_template_id, status, category, previous_status, actor, at):
        self.meta_template_id, self.status, self.category = meta_template_id, status, category

    @event("StatusChanged")
    def _status_changed(self, org_id, sender_id, waba_id, name, language, parameter_format, read_only,
                 meta_template_id, status, previous_status, reason, details, origin, actor, at):
        self.status, self.reason = status, reason

    @event("QualityChanged")
    def _quality_changed(self, org_id, sender_id, waba_id, name, language, parameter_format, read_only,
                 meta_template_id, score, previous_score, origin, actor, at):
        self.quality_score = score

    @event("CategoryChanged")
    def _category_changed(self, org_id, sender_id, waba_id, name, language, parameter_format, read_only,
                 meta_template_id, category, previous_category, origin, actor, at):
        self.category = category

    @event("Deleted")
    def _deleted(self, org_id, sender_id, waba_id, name, language, parameter_format, read_only,
                 meta_template_id, actor, at):
        self.deleted = True
