"""Campaign lifecycle with its runner state: every transition is recorded on the aggregate (event
store, relayed as `campaign.*` events) and mirrored on the campaign's `runs` row in one step; the row
is locked first, so a pause or cancel waits for a send batch in progress and no batch follows it."""

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
from .sender_directory import SenderDirectory

from .tables import SCHEMA

INSERT = text(f"""INSERT INTO {SCHEMA}.runs (campaign_id, org_id, status, spec) VALUES
                  (:cid, :org, 'draft', CAST(:spec AS jsonb)) ON CONFLICT (campaign_id) DO NOTHING""")
LOCK = text(f"SELECT status FROM {SCHEMA}.runs WHERE campaign_id = :cid FOR UPDATE")
SPEC = text(f"UPDATE {SCHEMA}.runs SET spec = CAST(:spec AS jsonb), updated_at = now() WHERE campaign_id = :cid")
SET = text(f"UPDATE {SCHEMA}.runs SET status = :status, updated_at = now() WHERE campaign_id = :cid")
FORGET = [text(f"DELETE FROM {SCHEMA}.{table} WHERE campaign_id = :cid") for table in (
    "contacts", "count_deltas", "campaign_counts", "runs")] + [
    text(f"DELETE FROM {SCHEMA}.imports WHERE target_id = :cid AND target = 'campaign'")]


class NoSenders(Exception):
    """Starting a campaign none of whose senders exists (a 422 naming the senders)."""


class Lifecycle:
    def __init__(self, app: CampaignsApp, engine: AsyncEngine, relay: Relay, directory: SenderDirectory,
                 holds=None, wake=lambda: None):
        self.app, self.engine, self.relay, self.directory, self.wake = app, engine, relay, directory, wake
        self.holds = holds  # KV sb_campaign_holds: what the session-pool must hold back or drop

    async def create(self, campaign_id: str, org_id: str, spec: dict, actor: dict | None = None) -> Campaign:
        campaign = await call(self.app.create, campaign_id, org_id, actor=actor, **spec)
        async with self.engine.begin() as conn:
            await conn.execute(INSERT, {"cid": campaign_id, "org": org_id, "spec": json.dumps(spec, default=str)})
        self.relay.wake()
        return campaign

    async def act(self, org_id: str, campaign_id: str, what: str, actor: dict | None = None) -> Campaign | None:
        """start (now or at its scheduled time), pause, resume, cancel (by `actor`, the API's caller) —
        and the runner's begin and complete (by the system). None when there is no such campaign;
        TransitionError when it cannot."""
        now = datetime.now(UTC)
        if what == "start":
            campaign = await call(self.app.find, org_id, campaign_id)
            if campaign is not None and campaign.status == "draft" and not await self.directory.of_campaign(
                    org_id, campaign.senders):
                named = campaign.senders.get("sender_ids") or f"label {campaign.senders.get('label')!r}"
                raise NoSenders(f"the campaign has no sender: none of {named} exists in this organization")
        async with self.engine.begin() as conn:
            if (await conn.execute(LOCK, {"cid": campaign_id})).first() is None:
                return None
            campaign = await call(self.app.change, org_id, campaign_id, lambda c: _do(c, what, now, actor))
            if campaign is None:
                return None
            await conn.execute(SET, {"cid": campaign_id, "status": campaign.status})
        await self._hold(campaign_id, campaign.status)
        self.relay.wake()
        self.wake()
        return campaign

    async def _hold(self, campaign_id: str, status: str) -> None:
        """Tell the session-pool: a paused campaign's queued messages wait, a cancelled one's fail."""
        if self.holds is None:
            return
        if status in ("paused", "cancelled"):
            await self.holds.put(campaign_id, status.encode())
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
        try:
            await self.act(org_id, campaign_id, what)
        except TransitionError:
            pass  # paused or cancelled meanwhile


def _do(campaign: Campaign, what: str, now: datetime, actor: dict | None) -> None:
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
    else:
        raise ValueError(what)
