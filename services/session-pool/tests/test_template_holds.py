"""Templates Meta pauses or disables (`template.status_changed`, as webhook-ingest and the sync publish
it): a PAUSED template's messages through a Meta sender of that account wait — not sent, not failed, no
quota taken — and go once it is APPROVED again; DISABLED fails them, and any new one, as
`template_disabled`, once each. Another account, another language or a text message is not held; a
repeated or an older report changes nothing; a pool message takes a sender of an account that does not
hold the template. Real NATS and PostgreSQL, the fake Graph API."""

from __future__ import annotations

import asyncio
import json
import random
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import nats
from nats.js.errors import KeyNotFoundError

from switchboard_contracts import commands, sender_rpc, streams
from switchboard_contracts import template as contract
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_contracts.streams import KeyValueSpec
from switchboard_devkit.testing.fake_graph import running_fake_graph
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.sealing import Sealer
from switchboard_session_pool.domain.template_hold import TemplateKey, TemplateReport, report_of
from switchboard_session_pool.stores.template_holds import TemplateHolds

from .helpers import collect_events, command, publish_command, running_session_pool
from .test_meta_cloud import open_window, statuses
from .test_meta_message_types import send
from .test_waha_lifecycle import ask

WABA, OTHER_WABA = "1022", "2033"
ORDER = {"name": "order_update", "language": "en_US"}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --- the rule, in memory ------------------------------------------------------------------------

def test_a_report_replaces_an_older_one_never_a_newer_or_the_same():
    paused = report_of("o", WABA, "order_update", "en_US", "paused", T0)
    assert paused is not None and paused.status == "PAUSED" and paused.hold == "PAUSED"
    approved = report_of("o", WABA, "order_update", "en_US", "APPROVED", T0 + timedelta(minutes=5))
    assert approved.hold is None and approved.replaces(paused) and approved.replaces(None)
    assert not paused.replaces(approved)  # an older report arriving late
    assert not paused.replaces(paused)  # the same report again
    again = report_of("o", WABA, "order_update", "en_US", "PAUSED", T0 + timedelta(minutes=1))
    assert again.replaces(paused)  # the same status reported later (the other origin): its time is kept
    assert report_of("o", WABA, None, "en_US", "PAUSED", T0) is None  # no name: nothing can wait on it
    assert report_of("o", WABA, "order_update", "de", "DISABLED", T0).hold == "DISABLED"


def test_template_keys_are_nats_keys_and_tell_templates_apart():
    plain = TemplateKey("org-1", WABA, "order_update", "en_US")
    assert plain.kv_key == "org-1.1022.order_update.en_US"
    odd = [TemplateKey("org-1", WABA, name, "en_US") for name in ("a.b", "a b", "a=b", "=YQ", "é", "")]
    keys = [k.kv_key for k in odd]
    assert len(set(keys + [plain.kv_key])) == len(odd) + 1
    assert all(part and all(c.isalnum() and c.isascii() or c in "-_=" for c in part)
               for key in keys for part in key.split("."))
    report = TemplateReport(odd[0], "PAUSED", T0)
    assert TemplateReport.from_json(json.loads(json.dumps(report.to_json()))) == report


# --- the shared bucket --------------------------------------------------------------------------

async def test_replicas_recording_at_once_leave_the_newest_report(nats_url):
    """Two replicas record reports of one template concurrently, in any order: the bucket ends with the
    newest (compare-and-set), and both replicas' watches hold what it says."""
    nc = await nats.connect(nats_url)
    try:
        kv = await ensure_key_value(nc.jetstream(), KeyValueSpec(bucket=f"test_holds_{new_id()[:8]}"))
        changes = [0, 0]
        one = TemplateHolds(kv, on_change=lambda: changes.__setitem__(0, changes[0] + 1))
        two = TemplateHolds(kv, on_change=lambda: changes.__setitem__(1, changes[1] + 1))
        await one.start()
        await two.start()
        reports = [report_of("o", WABA, "order_update", "en_US", status, T0 + timedelta(seconds=i))
                   for i, status in enumerate(["PAUSED", "APPROVED", "PAUSED", "DISABLED"] * 5)]
        newest = reports[-1]
        random.Random(7).shuffle(reports)
        await asyncio.gather(*(holds.record(r) for holds, r in zip([one, two] * 10, reports, strict=True)))
        entry = await kv.get(newest.key.kv_key)
        assert TemplateReport.from_json(json.loads(entry.value)) == newest
        assert not await one.record(newest)  # the same report again: nothing written
        assert (await kv.get(newest.key.kv_key)).revision == entry.revision
        for _ in range(50):
            if one.of("o", WABA, "order_update", "en_US") == two.of("o", WABA, "order_update", "en_US") == "DISABLED":
                break
            await asyncio.sleep(0.05)
        assert one.holds == two.holds == {newest.key: "DISABLED"}
        assert one.of("o", OTHER_WABA, "order_update", "en_US") is None
        assert changes[0] >= 1 and changes[1] >= 1
        await one.stop()
        await two.stop()
    finally:
        await nc.close()


# --- through the running session-pool -----------------------------------------------------------

async def meta(js, graph, org: str, *, pnid: str, waba: str, quotas: dict | None = None) -> str:
    sid = new_id()
    cmd = commands.RegisterSender(
        sender_id=sid, name="meta", provider="meta-cloud", quotas=quotas or {},
        config={"phone_number_id": pnid, "waba_id": waba, "api_base_url": graph.url, "api_version": "v23.0"},
        sealed_credentials=Sealer(TEST_SECRET_KEY).seal({"access_token": "EAAB-good", "app_secret": "s",
                                                          "verify_token": "v"}))
    await publish_command(js, command(org, commands.REGISTER_SENDER, cmd))
    await collect_events(js, f"sb.evt.{org}.sender.connected", lambda ev: any(e.subject == sid for e in ev))
    return sid


async def report(js, org: str, waba: str, status: str, *, name: str = ORDER["name"],
                 language: str = ORDER["language"], origin: str = "webhook", at: datetime | None = None) -> None:
    """Meta's report of a template's new status, as webhook-ingest (or the conversations sync) publishes it."""
    meta_id = str(zlib.crc32(f"{waba}:{name}:{language}".encode()))
    data = contract.TemplateStatusChanged(
        waba_id=waba, message_template_id=meta_id, message_template_name=name,
        message_template_language=language, event=status, origin=origin, at=at or datetime.now(UTC),
        template_id=new_id() if origin == "sync" else None)
    source = "switchboard/webhook-ingest" if origin == "webhook" else "switchboard/conversations"
    ce = make_envelope(id=new_id(), source=source, type=contract.STATUS_CHANGED, orgid=org, data=data, subject=meta_id)
    await js.publish(f"sb.evt.{org}.template.status_changed", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})


async def recorded(js, org: str, waba: str, status: str, *, name: str = ORDER["name"],
                   language: str = ORDER["language"]) -> None:
    """Wait until the session-pool recorded the template's status (and its watch has seen it)."""
    kv = await js.key_value(streams.TEMPLATE_HOLDS.bucket)
    key = TemplateKey(org, waba, name, language).kv_key
    for _ in range(100):
        try:
            if json.loads((await kv.get(key)).value)["status"] == status:
                await asyncio.sleep(0.3)  # every replica's watch delivers it
                return
        except KeyNotFoundError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{key} was not recorded as {status}")


async def settled(js, org: str) -> None:
    """Every report published so far has been handled: the consumer takes them in order, so once a
    report published after them is recorded, they were too."""
    marker = f"marker_{new_id()[:8]}"
    await report(js, org, WABA, "APPROVED", name=marker)
    await recorded(js, org, WABA, "APPROVED", name=marker)


def pooled(org: str, sender_ids: list[str], to: str, **content):
    cmd = commands.SendMessage(message_id=new_id(), pool=commands.SenderPool(sender_ids=sender_ids), to=to,
                               requested_at=datetime.now(UTC), **content)
    return command(org, commands.SEND_MESSAGE, cmd, id_=cmd.message_id)


def accepted(events, mid: str) -> bool:
    return any(e.type == "switchboard.message.accepted.v1" and e.data["message_id"] == mid for e in events)


async def quota_used(nats_url: str, org: str, sid: str) -> int:
    reply = await ask(nats_url, sender_rpc.STATS, org, sid)
    return reply.data["quota"]["per_day"]["used"]


async def test_a_paused_template_holds_its_messages_until_approved(nats_url, database_url):
    org = new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        a = await meta(js, graph, org, pnid="3001", waba=WABA, quotas={"per_day": 100})
        b = await meta(js, graph, org, pnid="3002", waba=OTHER_WABA)
        await report(js, org, WABA, "PAUSED")
        await recorded(js, org, WABA, "PAUSED")
        await open_window(js, database_url, org, a, ["+4915110000071"])
        held = [send(org, a, f"+491511000007{2 + i}", type="template", template=ORDER) for i in range(2)]
        text = send(org, a, "+4915110000071", text="still here")  # not a template: not held
        other_account = send(org, b, "+4915110000074", type="template", template=ORDER)
        other_language = send(org, a, "+4915110000075", type="template",
                              template={"name": "order_update", "language": "de"})
        free = (text, other_account, other_language)
        for ce in (*held, *free):
            await publish_command(js, ce)
        await collect_events(js, f"sb.evt.{org}.message.>", lambda ev: all(statuses(ev, ce.id) for ce in free)
                             and all(accepted(ev, ce.id) for ce in held), timeout=20)
        await report(js, org, WABA, "PAUSED", origin="sync")  # the same change again, from the sync
        await settled(js, org)
        await asyncio.sleep(2.5)  # the held messages are looked at every second meanwhile
        events = await collect_events(js, f"sb.evt.{org}.message.status",
                                      lambda ev: all(statuses(ev, ce.id) for ce in free))
        assert [statuses(events, ce.id) for ce in held] == [[], []]  # neither sent nor failed
        assert {b_["biz_opaque_callback_data"] for b_ in graph.sent} == {ce.id for ce in free}
        assert await quota_used(nats_url, org, a) == 2  # the held messages took no quota

        await report(js, org, WABA, "APPROVED")
        events = await collect_events(js, f"sb.evt.{org}.message.status",
                                      lambda ev: all(statuses(ev, ce.id) for ce in held), timeout=15)
        assert [statuses(events, ce.id) for ce in held] == [[("sent", None)]] * 2
        await report(js, org, WABA, "APPROVED", origin="sync")  # repeated: changes nothing
        await report(js, org, WABA, "PAUSED", at=datetime.now(UTC) - timedelta(hours=1))  # older, arriving late
        await settled(js, org)
        later = send(org, a, "+4915110000076", type="template", template=ORDER)
        await publish_command(js, later)
        events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: statuses(ev, later.id),
                                      timeout=15)
    assert statuses(events, later.id) == [("sent", None)]  # the late, older PAUSED did not hold it
    posted = Counter(b_["biz_opaque_callback_data"] for b_ in graph.sent)
    assert posted == Counter({ce.id: 1 for ce in (*held, *free, later)})  # each sent once


async def test_a_disabled_template_fails_its_waiting_and_new_messages_once(nats_url, database_url):
    org = new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        a = await meta(js, graph, org, pnid="3101", waba=WABA)
        await report(js, org, WABA, "PAUSED")
        await recorded(js, org, WABA, "PAUSED")
        waiting = [send(org, a, "+4915110000081", type="template", template=ORDER),
                   pooled(org, [a], "+4915110000082", type="template", template=ORDER)]
        for ce in waiting:
            await publish_command(js, ce)
        await collect_events(js, f"sb.evt.{org}.message.accepted",
                             lambda ev: all(accepted(ev, ce.id) for ce in waiting))
        await report(js, org, WABA, "DISABLED")
        await collect_events(js, f"sb.evt.{org}.message.status",
                             lambda ev: all(statuses(ev, ce.id) for ce in waiting), timeout=15)
        new = send(org, a, "+4915110000083", type="template", template=ORDER)
        await publish_command(js, new)
        await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: statuses(ev, new.id))
        await report(js, org, WABA, "DISABLED", origin="sync")  # the same change again, from the sync
        await settled(js, org)
        await asyncio.sleep(1.5)
        events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: statuses(ev, new.id))
    for ce in (*waiting, new):
        assert statuses(events, ce.id) == [("failed", "template_disabled")]  # once each
    assert graph.sent == []


async def test_a_pool_message_takes_a_sender_whose_account_does_not_hold_the_template(nats_url, database_url):
    org = new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        a = await meta(js, graph, org, pnid="3201", waba=WABA)
        b = await meta(js, graph, org, pnid="3202", waba=OTHER_WABA)
        await report(js, org, WABA, "PAUSED")
        await recorded(js, org, WABA, "PAUSED")
        either = [pooled(org, [a, b], f"+491511000009{i}", type="template", template=ORDER) for i in range(3)]
        only_a = pooled(org, [a], "+4915110000095", type="template", template=ORDER)
        for ce in (*either, only_a):
            await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.message.>", lambda ev: all(
            statuses(ev, ce.id) for ce in either) and accepted(ev, only_a.id), timeout=20)
        assert [statuses(events, ce.id) for ce in either] == [[("sent", None)]] * 3
        assert {e.data["sender_id"] for e in events if e.type == "switchboard.message.status.v1"} == {b}
        await asyncio.sleep(1.5)
        assert {b_["biz_opaque_callback_data"] for b_ in graph.sent} == {ce.id for ce in either}  # only_a waits
        await report(js, org, WABA, "DISABLED")
        events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: statuses(ev, only_a.id),
                                      timeout=15)
    assert statuses(events, only_a.id) == [("failed", "template_disabled")]
    assert len(graph.sent) == 3
