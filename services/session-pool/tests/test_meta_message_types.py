"""Templates, media, interactive messages and replies through the real pipeline (NATS, PostgreSQL)
to a local fake Graph API: each body arrives in Meta's shape, and templates may go outside the
24-hour customer-service window where free-form messages may not."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from switchboard_contracts import commands
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.fake_graph import running_fake_graph

from .helpers import collect_events, command, publish_command, register_simulator, running_session_pool
from .test_meta_cloud import open_window, register_meta, statuses

TEMPLATE = {"name": "appointment_reminder", "language": "en_US", "components": [
    {"type": "body", "parameters": [{"type": "text", "text": "Ada"},
                                    {"type": "date_time", "date_time": {"fallback_value": "May 1, 9:00"}}]},
    {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "OK"}]}]}
BUTTONS = {"type": "button", "body": {"text": "Keep the appointment?"},
           "action": {"buttons": [{"type": "reply", "reply": {"id": "keep", "title": "Keep"}},
                                  {"type": "reply", "reply": {"id": "move", "title": "Reschedule"}}]}}
LIST = {"type": "list", "header": {"type": "text", "text": "Shipping"}, "body": {"text": "Which option?"},
        "footer": {"text": "Lucky Shrub"}, "action": {"button": "Options", "sections": [
            {"title": "Fast", "rows": [{"id": "express", "title": "Express", "description": "Next day"}]},
            {"title": "Cheap", "rows": [{"id": "normal", "title": "Normal"}]}]}}


def send(org: str, sender_id: str, to: str, **content):
    cmd = commands.SendMessage(message_id=new_id(), sender_id=sender_id, to=to, requested_at=datetime.now(UTC),
                               **content)
    return command(org, commands.SEND_MESSAGE, cmd, id_=cmd.message_id)


async def meta_sender(js, graph, org: str) -> str:
    sid = new_id()
    await register_meta(js, org, sid, graph.url)
    await collect_events(js, f"sb.evt.{org}.sender.connected", lambda ev: len(ev) == 1)
    return sid


async def test_a_template_goes_outside_the_window_where_text_is_refused(nats_url, database_url):
    org = new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        sid = await meta_sender(js, graph, org)
        await open_window(js, database_url, org, sid, ["+4915110000041"], hours_ago=30)  # window closed
        template = send(org, sid, "+4915110000041", type="template", template=TEMPLATE)
        free_form = send(org, sid, "+4915110000041", text="Are you there?")
        never = send(org, sid, "+4915110000042", type="template",  # never wrote to us at all
                     template={"name": "hello_world", "language": "en_US"})
        for ce in (template, free_form, never):
            await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.message.>", lambda ev: all(
            statuses(ev, ce.id) for ce in (template, free_form, never)), timeout=20)
    assert statuses(events, template.id) == [("sent", None)]
    assert statuses(events, never.id) == [("sent", None)]
    assert statuses(events, free_form.id) == [("failed", "outside_window")]
    posted = {b["biz_opaque_callback_data"]: b for b in graph.sent}
    assert set(posted) == {template.id, never.id}
    assert posted[template.id] == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "4915110000041",
        "type": "template", "template": {"name": "appointment_reminder",
                                         "language": {"policy": "deterministic", "code": "en_US"},
                                         "components": TEMPLATE["components"]},
        "biz_opaque_callback_data": template.id}
    accepted = {e.data["message_id"]: e.data for e in events if e.type == "switchboard.message.accepted.v1"}
    assert accepted[template.id]["type"] == "template"
    assert accepted[template.id]["text"] == "[template appointment_reminder en_US] Ada, May 1, 9:00"


async def test_media_interactive_and_replies_reach_the_graph_api_in_meta_shape(nats_url, database_url):
    org = new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        sid = await meta_sender(js, graph, org)
        contacts = [f"+49151100000{50 + i}" for i in range(6)]
        await open_window(js, database_url, org, sid, contacts)
        msgs = {
            "image": send(org, sid, contacts[0], type="image",
                          media={"link": "https://cdn.example.com/shop.jpg", "caption": "Our shop",
                                 "mime_type": "image/jpeg"}),
            "document": send(org, sid, contacts[1], type="document",
                             media={"id": "1376223850470843", "filename": "invoice.pdf"}),
            "audio": send(org, sid, contacts[2], type="audio", media={"id": "1013859600285441"}),
            "buttons": send(org, sid, contacts[3], type="interactive", interactive=BUTTONS,
                            reply_to="wamid.HBgLNDkxNTExMDAwMDA1MxUCABIYFDNBQjc="),
            "list": send(org, sid, contacts[4], type="interactive", interactive=LIST),
            "reply": send(org, sid, contacts[5], text="Yes, we open at 9.", reply_to="wamid.HBgLQUJD"),
        }
        for ce in msgs.values():
            await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: all(
            statuses(ev, ce.id) for ce in msgs.values()), timeout=20)
    assert all(statuses(events, ce.id) == [("sent", None)] for ce in msgs.values())
    posted = {b["biz_opaque_callback_data"]: b for b in graph.sent}
    assert len(graph.sent) == len(msgs) == len(posted)

    def content(name: str) -> dict:
        body = posted[msgs[name].id]
        assert body["messaging_product"] == "whatsapp" and body["recipient_type"] == "individual"
        return {k: v for k, v in body.items() if k not in ("messaging_product", "recipient_type", "to",
                                                           "biz_opaque_callback_data")}

    assert content("image") == {"type": "image", "image": {"link": "https://cdn.example.com/shop.jpg",
                                                           "caption": "Our shop"}}
    assert content("document") == {"type": "document", "document": {"id": "1376223850470843",
                                                                    "filename": "invoice.pdf"}}
    assert content("audio") == {"type": "audio", "audio": {"id": "1013859600285441"}}
    assert content("buttons") == {"type": "interactive", "interactive": BUTTONS,
                                  "context": {"message_id": "wamid.HBgLNDkxNTExMDAwMDA1MxUCABIYFDNBQjc="}}
    assert content("list") == {"type": "interactive", "interactive": LIST}
    assert content("reply") == {"type": "text", "text": {"body": "Yes, we open at 9."},
                                "context": {"message_id": "wamid.HBgLQUJD"}}
    assert posted[msgs["list"].id]["to"] == "4915110000054"


async def test_the_simulator_records_a_summary_of_non_text_messages(nats_url, database_url):
    org, sid = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sid)
        image = send(org, sid, "+4915112340001", type="image", media={"id": "1", "caption": "Our shop"})
        buttons = send(org, sid, "+4915112340002", type="interactive", interactive=BUTTONS)
        for ce in (image, buttons):
            await publish_command(js, ce)
        await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: all(
            ("sent", None) in statuses(ev, ce.id) for ce in (image, buttons)))
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            recorded = dict(conn.execute(text("SELECT message_id, text FROM session_pool.simulator_sends "
                                              "WHERE sender_id = :s"), {"s": sid}).all())
    finally:
        engine.dispose()
    assert recorded == {image.id: "[image] Our shop",
                        buttons.id: "[buttons] Keep the appointment? (Keep / Reschedule)"}


async def test_a_pool_message_skips_meta_senders_outside_the_window(nats_url, database_url):
    org = new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        meta = await meta_sender(js, graph, org)
        sim = new_id()
        await register_simulator(js, org, sim)
        await open_window(js, database_url, org, meta, ["+4915110000051"], hours_ago=30)  # closed

        def pooled(ids, **content):
            cmd = commands.SendMessage(message_id=new_id(), pool=commands.SenderPool(sender_ids=ids),
                                       to="+4915110000051", requested_at=datetime.now(UTC), **content)
            return command(org, commands.SEND_MESSAGE, cmd, id_=cmd.message_id)

        both = [pooled([meta, sim], text=f"hi {i}") for i in range(2)]
        meta_only = pooled([meta], text="only meta")
        template = pooled([meta], type="template", template={"name": "hello_world", "language": "en_US"})
        for ce in (*both, meta_only, template):
            await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: all(
            statuses(ev, ce.id) for ce in (*both, meta_only, template)), timeout=30)
    final = {e.data["message_id"]: e.data for e in events}
    assert {final[ce.id]["sender_id"] for ce in both} == {sim}  # never through the closed Meta window
    assert [statuses(events, ce.id)[0] for ce in both] == [("sent", None)] * 2
    assert statuses(events, meta_only.id) == [("failed", "outside_window")]
    assert statuses(events, template.id) == [("sent", None)] and final[template.id]["sender_id"] == meta
    assert [b["biz_opaque_callback_data"] for b in graph.sent] == [template.id]
