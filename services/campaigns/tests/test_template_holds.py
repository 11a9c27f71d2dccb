"""Campaigns follow their template's status, against real NATS and PostgreSQL: the campaigns service runs
in-process; the template events come as the conversations service and webhook-ingest publish them on
`sb.evt.<org>.template.*`, the senders as the session-pool announces them, and the test plays the
session-pool's part of each send (takes the command, reports it `sent`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import nats
from sqlalchemy import text

from switchboard_campaigns.tables import SCHEMA
from switchboard_contracts import streams
from switchboard_contracts.ids import new_id
from switchboard_runtime.database import async_engine
from switchboard_runtime.settings import DatabaseUrl

from .template_helpers import (
    WABA, Api, FakePool, Templates, add_sender, eventually, events, hold_of, running_campaigns,
)

SYSTEM_PAUSE = {"type": "system", "id": "template_paused"}


async def stats(api: Api, cid: str) -> dict:
    return (await api.get(cid))["stats"]


async def transitions(js, org: str, cid: str) -> list[tuple[str, str | None, dict | None]]:
    """The campaign's published lifecycle events: (event, reason, actor)."""
    return [(e["type"].split(".")[2], e["data"]["reason"], e["data"]["actor"])
            for e in await events(js, f"sb.evt.{org}.campaign.*")
            if e["subject"] == cid and "status" in e["data"]]


async def test_a_paused_template_pauses_its_campaign_which_resumes_when_approved_and_completes(nats_url, database_url):
    org, meta = new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await add_sender(js, org, meta)
        await templates.approved("promo")
        pool = await FakePool(js, org).start()
        cid = await api.campaign("spring", {"sender_ids": [meta]})
        assert (await api.act(cid, "start")).json()["status"] == "running"
        await eventually(lambda: stats(api, cid), lambda s: s["queued"] == 20)  # a minute of its sender's quota

        await templates.meta_reports("promo", "PAUSED")  # Meta's webhook, through webhook-ingest
        paused = await api.get(cid)
        assert (paused["status"], paused["reason"]) == ("paused", "template_paused")
        assert await hold_of(js, cid) == b"paused"  # the session-pool holds what it has queued
        # what was queued before the pause goes out; nothing new is taken while paused
        assert await pool.take() == 20
        await eventually(lambda: stats(api, cid), lambda s: s["sent"] == 20 and s["queued"] == 0)
        await asyncio.sleep(0.5)  # ten runner ticks
        assert await pool.take() == 0 and (await stats(api, cid))["pending"] == 30

        # the same status again, from the sync and once more from the webhook: nothing changes
        await templates.meta_reports("promo", "PAUSED", origin="sync")
        await templates.meta_reports("promo", "PAUSED")
        await templates.meta_reports("promo", "FLAGGED", at=datetime(2026, 1, 1, tzinfo=UTC))  # older: ignored
        assert (await api.get(cid))["status"] == "paused"

        await templates.meta_reports("promo", "APPROVED")  # Meta unpaused it
        resumed = await api.get(cid)
        assert (resumed["status"], resumed["reason"]) == ("running", "template_approved")
        assert await hold_of(js, cid) is None

        async def sending() -> dict:
            await pool.take(wait=0.1)
            return await api.get(cid)

        done = await eventually(sending, lambda c: c["status"] == "completed", timeout=30)
        assert done["stats"]["sent"] == 50 and pool.taken == 50
        published = await eventually(lambda: transitions(js, org, cid), lambda t: t and t[-1][0] == "completed")
        assert [t[:2] for t in published] == [("started", None), ("paused", "template_paused"),
                                              ("resumed", "template_approved"), ("completed", None)]
        assert published[1][2] == SYSTEM_PAUSE and published[2][2] == {"type": "system", "id": "template_approved"}


async def test_an_operator_pause_stays_and_a_disabled_template_fails_what_waits(nats_url, database_url):
    org, meta, other = new_id(), new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await add_sender(js, org, meta, labels=("promo-pool",))
        await add_sender(js, org, other, waba_id="999000111222333")  # another account: its templates are its own
        await templates.approved("promo")
        by_operator = await api.campaign("operator", {"sender_ids": [meta]})
        by_pool = await api.campaign("pool", {"sender_pool": "promo-pool"})
        elsewhere = await api.campaign("elsewhere", {"sender_ids": [other]})
        for cid in (by_operator, by_pool, elsewhere):
            assert (await api.act(cid, "start")).status_code == 200
        assert (await api.act(by_operator, "pause", actor_id="user-7")).json()["status"] == "paused"

        await templates.meta_reports("promo", "PAUSED")
        assert [((c := await api.get(cid))["status"], c["reason"]) for cid in (by_operator, by_pool, elsewhere)] == [
            ("paused", None), ("paused", "template_paused"), ("running", None)]
        refused = await api.act(by_operator, "resume", actor_id="user-7")  # not while the template is paused
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "template_not_approved"
        assert refused.json()["error"]["details"]["status"] == "PAUSED"

        await templates.meta_reports("promo", "APPROVED")
        assert [(await api.get(cid))["status"] for cid in (by_operator, by_pool, elsewhere)] == [
            "paused", "running", "running"]  # the operator's pause is the operator's to lift

        await templates.meta_reports("promo", "DISABLED")
        for cid in (by_operator, by_pool):
            failed = await api.get(cid)
            assert (failed["status"], failed["reason"]) == ("failed", "template_disabled")
            assert await hold_of(js, cid) == b"cancelled"  # the session-pool drops what it still holds
        assert (await api.get(elsewhere))["status"] == "running"
        published = await eventually(lambda: transitions(js, org, by_operator), lambda t: t and t[-1][0] == "failed")
        assert published == [("started", None, {"type": "api_key", "id": "key-1"}),
                             ("paused", None, {"type": "user", "id": "user-7"}),
                             ("failed", "template_disabled", {"type": "system", "id": "template_disabled"})]


async def test_a_start_is_refused_while_the_template_is_known_and_not_approved(nats_url, database_url):
    org, meta, simulator = new_id(), new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await add_sender(js, org, meta)
        await add_sender(js, org, simulator, provider="simulator")
        await templates.created("promo")
        await templates.submitted("promo")  # PENDING: under review
        cid = await api.campaign("spring", {"sender_ids": [meta]})

        refused = await api.act(cid, "start")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "template_not_approved"
        assert error["details"] == {"status": "PENDING", "name": "promo", "language": "en_US", "waba_id": "102290129340398"}
        assert (await api.get(cid))["status"] == "draft"
        # not checked: a template through a sender that is not Meta's, and one the projection does not know
        not_meta = await api.campaign("simulated", {"sender_ids": [simulator]})
        unknown = await api.campaign("unknown", {"sender_ids": [meta]}, template_name="made_before")
        other_language = await api.campaign("german", {"sender_ids": [meta]}, language="de")
        for started in (not_meta, unknown, other_language):
            assert (await api.act(started, "start")).json()["status"] == "running"

        await templates.meta_reports("promo", "REJECTED")
        assert (await api.act(cid, "start")).json()["error"]["details"]["status"] == "REJECTED"
        await templates.meta_reports("promo", "APPROVED")
        assert (await api.act(cid, "start")).json()["status"] == "running"


async def test_a_scheduled_start_waits_for_its_template_or_fails(nats_url, database_url):
    org, meta = new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await add_sender(js, org, meta)
        for name in ("archived_one", "rejected_one", "paused_one"):
            await templates.approved(name)
        start_at = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
        waits, fails, paused_early = [
            await api.campaign(name, {"sender_ids": [meta]}, template_name=name, schedule={"start_at": start_at})
            for name in ("archived_one", "rejected_one", "paused_one")]
        for cid in (waits, fails, paused_early):
            assert (await api.act(cid, "start")).json()["status"] == "scheduled"

        await templates.meta_reports("paused_one", "PAUSED")  # a scheduled campaign pauses at once
        assert ((c := await api.get(paused_early))["status"], c["reason"]) == ("paused", "template_paused")
        await templates.meta_reports("archived_one", "ARCHIVED")  # nothing yet: it is not sending
        await templates.meta_reports("rejected_one", "REJECTED")
        assert [(await api.get(cid))["status"] for cid in (waits, fails)] == ["scheduled", "scheduled"]

        # when the start comes: an archived template may come back (it waits), a rejected one will not
        waited = await eventually(lambda: api.get(waits), lambda c: c["status"] != "scheduled")
        assert (waited["status"], waited["reason"]) == ("paused", "template_paused")
        failed = await eventually(lambda: api.get(fails), lambda c: c["status"] != "scheduled")
        assert (failed["status"], failed["reason"]) == ("failed", "template_rejected")

        await templates.meta_reports("archived_one", "APPROVED")
        assert (await api.get(waits))["status"] == "running"
        published = await eventually(lambda: transitions(js, org, waits), lambda t: t and t[-1][0] == "resumed")
        assert [t[:2] for t in published] == [("scheduled", None), ("paused", "template_paused"),
                                              ("resumed", "template_approved")]
        assert published[1][2] == SYSTEM_PAUSE


async def test_senders_known_before_the_templates_projection_learn_their_account_from_its_replay(nats_url, database_url):
    """An upgrade: the directory knew the sender before it kept provider and account, and the templates
    consumer is new — it replays `sender.registered` from the stream's start and fills them in."""
    org, meta = new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        await add_sender(js, org, meta)
    engine = async_engine(DatabaseUrl.parse(database_url), pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(text(f"UPDATE {SCHEMA}.senders SET provider = NULL, waba_id = NULL WHERE sender_id = :s"),
                           {"s": meta})
    nc = await nats.connect(nats_url)
    await nc.jetstream().delete_consumer(streams.EVENTS.name, streams.CAMPAIGNS_TEMPLATES.durable)
    await nc.close()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await templates.approved("promo")  # handled after the replayed sender.registered
        async with engine.connect() as conn:
            known = (await conn.execute(text(f"SELECT provider, waba_id FROM {SCHEMA}.senders WHERE sender_id = :s"),
                                        {"s": meta})).one()
        assert tuple(known) == ("meta-cloud", WABA)
        cid = await api.campaign("spring", {"sender_ids": [meta]})
        assert (await api.act(cid, "start")).json()["status"] == "running"
        await templates.meta_reports("promo", "PAUSED")
        assert (await api.get(cid))["status"] == "paused"
    await engine.dispose()
