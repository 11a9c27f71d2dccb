"""Campaigns follow their template's status: after the templates projection has recorded a batch, each
template it touched is looked at as it now is, and the campaigns that send it are brought in line —
paused (reason `template_paused`) while it is PAUSED or under review, resumed when it is sendable again
(only those it paused: a campaign an operator paused stays paused), failed when it is disabled or
deleted. Through the lifecycle, as a manual pause works: the `runs` row, the `campaign.*` event, the
session-pool's hold. It acts on the status, not on the report, so a repeated or redelivered report
finds nothing left to do, and one that came while the service was down is acted on when it reads it."""

from __future__ import annotations

from .domain.template_status import effect_on_campaigns, failure_reason
from .lifecycle import Lifecycle
from .template_usage import TemplateKey, TemplateUsage, template_of


class TemplateHolds:
    def __init__(self, usage: TemplateUsage, lifecycle: Lifecycle):
        self.usage, self.lifecycle = usage, lifecycle

    async def follow(self, key: TemplateKey) -> None:
        status = await self.usage.status(key)
        effect = effect_on_campaigns(status) if status else None
        if effect is None:
            return
        for c in await self.usage.campaigns_using(key):
            if effect == "pause" and c.status in ("running", "scheduled"):
                await self.lifecycle.act(key.org_id, c.campaign_id, "template_pause")
            elif effect == "resume" and c.status == "paused" and await self._sendable(key.org_id, c.campaign_id):
                await self.lifecycle.act(key.org_id, c.campaign_id, "template_resume")
            elif effect == "fail":
                await self.lifecycle.act(key.org_id, c.campaign_id, "template_fail", reason=failure_reason(status))

    async def _sendable(self, org_id: str, campaign_id: str) -> bool:
        """Its template may be sent in every account its Meta senders belong to (a pool may span two)."""
        campaign = await self.lifecycle.find(org_id, campaign_id)
        if campaign is None or template_of(campaign.content) is None:
            return False
        return await self.usage.blocked(org_id, campaign.content, campaign.senders) is None
