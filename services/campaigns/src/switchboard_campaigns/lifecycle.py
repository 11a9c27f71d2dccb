"""Campaign lifecycle with its runner state: every transition is recorded on the aggregate (event
store, relayed as `campaign.*` events) and mirrored on the campaign's `runs` row in one step; the row
is locked first, so a pause or cancel waits for a send batch in progress and no batch follows it.
A campaign whose template is known not to be sendable in its Meta senders' account is not started or
resumed (`TemplateNotApproved`), and one whose scheduled start comes then waits paused or fails; one whose
template parameters do not fill the variables of the template's known definition is not created, edited,
started or resumed (`TemplateRefusal`, `template_parameters`)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

from nats.js.errors import KeyNotFoundError

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.eventstore import call
from switchboard_runtime.relay import Relay

from .application import CampaignsApp
from .domain.campaign import Campaign, TransitionError
from .domain.template_status import Blocked, failure_reason, when_due
from .sender_directory import SenderDirectory
from .template_usage import TemplateUsage

from .tables import SCHEMA

INSERT = text(f"""INSERT INTO {SCHEMA}.runs (campaign_id, org_id, status, spec) VALUES
                  (:cid, :org, 'draft', CAST(:spec AS jsonb)) ON CONFLICT (campaign_id) DO NOTHING""")
LOCK = text(f"SELECT status FROM {SCHEMA}.runs WHERE campaign_id = :cid FOR UPDATE")
SPEC = text(f"UPDATE {SCHEMA}.runs SET spec = CAST(:spec AS jsonb), updated_at = now() WHERE campaign_id = :cid")
SET = text(f"""UPDATE {SCHEMA}.runs SET status = :status, reason = :reason, updated_at = now()
               WHERE campaign_id = :cid""")
FORGET = [text(f"DELETE FROM {SCHEMA}.{table} WHERE campaign_id = :cid") for table in (
    "contacts", "count_deltas", "campaign_counts", "runs")] + [
    text(f"DELETE FROM {SCHEMA}.imports WHERE target_id = :cid AND target = 'campaign'")]


class NoSenders(Exception):
    """Starting a campaign none of whose senders exists (a 422 naming the senders)."""


class Lifecycle:
    def __init__(self, app: CampaignsApp, engine: AsyncEngine, relay: Relay, directory: SenderDirectory,
                 holds=None, wake=lambda: None, templates: TemplateUsage | None = None):
        self.app, self.engine, self.relay, self.directory, self.wake = app, engine, relay, directory, wake
        self.holds = holds  # KV sb_campaign_holds: what the session-pool must hold back or drop
        self.templates = templates  # what the campaign's template may do now (None: not checked)

    async def create(self, campaign_id: str, org_id: str, spec: dict, actor: dict | None = None) -> Campaign:
        """TemplateRefusal when its template's parameters do not fill the template's known variables."""
        if self.templates is not None:
            await self.templates.check(org_id, spec["content"], spec["senders"])
        campaign = await call(self.app.create, campaign_id, org_id, actor=actor, **spec)
        async with self.engine.begin() as conn:
            await conn.execute(INSERT, {"cid": campaign_id, "org": org_id, "spec": json.dumps(spec, default=str)})
        self.relay.wake()
        return campaign

    async def act(self, org_id: str, campaign_id: str, what: str, actor: dict | None = None,
                  reason: str | None = None) -> Campaign | None:
        """start (now or at its scheduled time), pause, resume, cancel (by `actor`, the API's caller) —
        and the runner's begin and complete, and what a template's status does (`template_pause`,
        `template_resume`, `template_fail` with its `reason`), by the system. None when there is no such
        campaign; TransitionError when it cannot; NoSenders or TemplateRefusal (TemplateNotApproved, or its
        parameters) when it may not start."""
        now = datetime.now(UTC)
        asked = await self._may_start(org_id, campaign_id, what) if what in ("start", "resume") else None
        async with self.engine.begin() as conn:
            if (await conn.execute(LOCK, {"cid": campaign_id})).first() is None:
                return None
            if asked is not None and self.templates is not None and (
                    refused := await self.templates.refusal(org_id, asked.content, asked.senders, conn)):
                raise refused
            campaign = await call(self.app.change, org_id, campaign_id, lambda c: _do(c, what, now, actor, reason))
            if campaign is None:
                return None
            await conn.execute(SET, {"cid": campaign_id, "status": campaign.status, "reason": campaign.reason})
        await self._hold(campaign_id, campaign.status)
        self.relay.wake()
        self.wake()
        return campaign

    async def find(self, org_id: str, campaign_id: str) -> Campaign | None:
        return await call(self.app.find, org_id, campaign_id)

    async def _may_start(self, org_id: str, campaign_id: str, what: str) -> Campaign | None:
        """The campaign a start or resume is asked of, to check its template (NoSenders for a start
        without any sender); None when the transition's own check will refuse it."""
        campaign = await self.find(org_id, campaign_id)
        if campaign is None or campaign.status != ("draft" if what == "start" else "paused"):
            return None
        if what == "start" and not await self.directory.of_campaign(org_id, campaign.senders):
            named = campaign.senders.get("sender_ids") or f"label {campaign.senders.get('label')!r}"
            raise NoSenders(f"the campaign has no sender: none of {named} exists in this organization")
        return campaign

    async def _hold(self, campaign_id: str, status: str) -> None:
        """Tell the session-pool: a paused campaign's queued messages wait, a cancelled (or failed) one's
        are dropped."""
        if self.holds is None:
            return
        if status in ("paused", "cancelled", "failed"):
            await self.holds.put(campaign_id, b"paused" if status == "paused" else b"cancelled")
        else:
            with contextlib.suppress(KeyNotFoundError):
                await self.holds.delete(campaign_id)

    async def delete(self, org_id: str, campaign_id: str, actor: dict | None = None) -> bool:
        """A campaign that is not sending (draft or finished), with its contacts, counts and imports;
        False when there is no such campaign; TransitionError while it is active."""
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            if (await conn.execute(LOCK, {"cid": campaign_id})).first() is None:
                return False
            if await call(self.app.change, org_id, campaign_id, lambda c: c.delete(now, actor)) is None:
                return False
            for statement in FORGET:
                await conn.execute(statement, {"cid": campaign_id})
        self.relay.wake()  # a cancelled campaign's hold stays: what the session-pool holds is still dropped
        return True

    async def edit(self, org_id: str, campaign_id: str, spec: dict, actor: dict | None = None) -> Campaign | None:
        if self.templates is not None:
            await self.templates.check(org_id, spec["content"], spec["senders"])
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            if (await conn.execute(LOCK, {"cid": campaign_id})).first() is None:
                return None
            campaign = await call(self.app.change, org_id, campaign_id, lambda c: c.edit(spec, now, actor))
            await conn.execute(SPEC, {"cid": campaign_id, "spec": json.dumps(spec, default=str)})
        self.relay.wake()
        return campaign

    async def imported(self, org_id: str, campaign_id: str, accepted: int, duplicates: int, rejected: int,
                       actor: dict | None = None) -> None:
        now = datetime.now(UTC)
        await call(self.app.change, org_id, campaign_id,
                   lambda c: c.import_contacts(accepted, duplicates, rejected, now, actor))
        self.relay.wake()
        self.wake()

    async def runner_transition(self, org_id: str, campaign_id: str, what: str) -> None:
        reason = None
        if what == "begin" and (blocked := await self._blocked_at_start(org_id, campaign_id)):
            # its scheduled start came while its template may not be sent: it waits for the template's
            # approval, or fails when the template will not come back
            what = "template_" + when_due(blocked.status)
            reason = failure_reason(blocked.status) if what == "template_fail" else None
        try:
            await self.act(org_id, campaign_id, what, reason=reason)
        except TransitionError:
            pass  # paused or cancelled meanwhile

    async def _blocked_at_start(self, org_id: str, campaign_id: str) -> Blocked | None:
        campaign = await self.find(org_id, campaign_id)
        if self.templates is None or campaign is None or campaign.status != "scheduled":
            return None
        return await self.templates.blocked(org_id, campaign.content, campaign.senders)


def _do(campaign: Campaign, what: str, now: datetime, actor: dict | None, reason: str | None = None) -> None:
    if what == "start":
        start_at = (campaign.schedule or {}).get("start_at")
        later = start_at is not None and datetime.fromisoformat(str(start_at)) > now
        campaign.start(now, starts_later=later, actor=actor)
    elif what == "begin":
        campaign.begin(now)
    elif what == "pause":
        campaign.pause(now, actor)
    elif what == "resume":
        campaign.resume(now, actor)
    elif what == "cancel":
        campaign.cancel(now, actor)
    elif what == "complete":
        campaign.complete(now)
    elif what == "template_pause":
        campaign.hold_for_template(now)
    elif what == "template_resume":
        campaign.release_for_template(now)
    elif what == "template_fail":
        campaign.end_for_template(reason or "template_disabled", now)
    else:
        raise ValueError(what)
