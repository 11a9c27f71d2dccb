"""The Flow aggregate: a draft definition, the immutable revisions published from it (1, 2, …), and
whether it is active (an active flow starts new executions on its newest revision). Definitions are
stored as validated, normalized JSON (`Definition.as_json()`). Each event names who made it
(`actor`, `{"type", "id"}`: the API's caller)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class FlowStateError(Exception):
    """The flow cannot do that now (a 409 for the API)."""


class Flow(Aggregate):
    @staticmethod
    def create_id(flow_id: str) -> UUID:
        return UUID(flow_id)

    @event("Created")
    def __init__(self, flow_id: str, org_id: str, definition: dict[str, Any], at: datetime,
                 actor: dict | None = None):
        self.org_id = org_id
        self.draft = definition
        self.revisions: list[dict[str, Any]] = []  # revision N is revisions[N - 1]
        self.published_at: list[datetime] = []
        self.active = False
        self.deleted = False
        self.created_at = at
        self.updated_at = at

    @property
    def name(self) -> str:
        return self.draft.get("name", "")

    @property
    def revision(self) -> int | None:
        """The newest published revision (None before the first publish)."""
        return len(self.revisions) or None

    def definition_of(self, revision: int) -> dict[str, Any] | None:
        return self.revisions[revision - 1] if 1 <= revision <= len(self.revisions) else None

    @event("DraftReplaced")
    def _draft_replaced(self, org_id: str, definition: dict[str, Any], at: datetime, actor: dict | None = None) -> None:
        self.draft = definition
        self.updated_at = at

    def replace_draft(self, definition: dict[str, Any], at: datetime, actor: dict | None = None) -> None:
        self._alive()
        self._draft_replaced(org_id=self.org_id, definition=definition, at=at, actor=actor)

    @event("Published")
    def _published(self, org_id: str, revision: int, definition: dict[str, Any], at: datetime,
                   actor: dict | None = None) -> None:
        self.revisions.append(definition)
        self.published_at.append(at)
        self.updated_at = at

    def publish(self, at: datetime, actor: dict | None = None) -> int:
        """The draft becomes the next revision; returns its number."""
        self._alive()
        self._published(org_id=self.org_id, revision=len(self.revisions) + 1, definition=self.draft, at=at,
                        actor=actor)
        return len(self.revisions)

    @event("Activated")
    def _activated(self, org_id: str, at: datetime, actor: dict | None = None) -> None:
        self.active = True
        self.updated_at = at

    def activate(self, at: datetime, actor: dict | None = None) -> None:
        self._alive()
        if not self.revisions:
            raise FlowStateError("publish the flow before activating it (an active flow runs a published revision)")
        if not self.active:
            self._activated(org_id=self.org_id, at=at, actor=actor)

    @event("Deactivated")
    def _deactivated(self, org_id: str, at: datetime, actor: dict | None = None) -> None:
        self.active = False
        self.updated_at = at

    def deactivate(self, at: datetime, actor: dict | None = None) -> None:
        self._alive()
        if self.active:
            self._deactivated(org_id=self.org_id, at=at, actor=actor)

    @event("Deleted")
    def _deleted(self, org_id: str, at: datetime, actor: dict | None = None) -> None:
        self.deleted = True
        self.active = False
        self.updated_at = at

    def delete(self, at: datetime, actor: dict | None = None) -> None:
        self._alive()
        self._deleted(org_id=self.org_id, at=at, actor=actor)

    def _alive(self) -> None:
        if self.deleted:
            raise FlowStateError("the flow was deleted")
