"""The Campaigns application: Campaign aggregates in the event store (synchronous; call it through
`switchboard_runtime.eventstore.call`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from .domain.campaign import Campaign


class CampaignsApp(Application[UUID]):
    name = "campaigns"

    def create(self, campaign_id: str, org_id: str, **fields) -> Campaign:
        campaign = Campaign(campaign_id=campaign_id, org_id=org_id, created_at=datetime.now(UTC), **fields)
        self.save(campaign)
        return campaign

    def find(self, org_id: str, campaign_id: str) -> Campaign | None:
        try:
            campaign = self.repository.get(UUID(campaign_id))
        except (AggregateNotFoundError, ValueError):
            return None
        return campaign if campaign.org_id == org_id and not getattr(campaign, "deleted", False) else None

    def change(self, org_id: str, campaign_id: str, act: Callable[[Campaign], None]) -> Campaign | None:
        """Load, act (a Campaign method that checks and records; TransitionError passes through), save."""
        campaign = self.find(org_id, campaign_id)
        if campaign is None:
            return None
        act(campaign)
        self.save(campaign)
        return campaign
