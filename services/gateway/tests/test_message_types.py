"""`POST /v1/messages` with every message type (against real NATS and PostgreSQL): each is accepted
and reaches the send command as given; bad content is a 422 that names the field."""

from __future__ import annotations

from switchboard_contracts import commands
from switchboard_contracts.envelope import CloudEvent
from switchboard_devkit.testing.patience import REPLY

from .helpers import running_gateway
from .test_api import new_org

TO = "+4915112345678"
TEMPLATE = {"name": "order_update", "language": "en_US", "components": [
    {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/a.png"}}]},
    {"type": "body", "parameters": [{"type": "text", "text": "Ada"}]},
    {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "42"}]}]}
BUTTONS = {"type": "button", "body": {"text": "Keep it?"},
           "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"Option {i}"}}
                                  for i in range(3)]}}
LIST = {"type": "list", "body": {"text": "Pick one"}, "action": {"button": "Options", "sections": [
    {"rows": [{"id": "a", "title": "A", "description": "The first"}]}]}}

GOOD = [
    {"type": "text", "text": "hi", "reply_to": "wamid.HBgLQUJD"},
    {"type": "template", "template": TEMPLATE},
    {"type": "image", "media": {"link": "https://cdn.example.com/a.jpg", "caption": "Shop"}},
    {"type": "video", "media": {"id": "1166846181421424"}},
    {"type": "audio", "media": {"id": "1013859600285441"}},
    {"type": "document", "media": {"id": "1376223850470843", "filename": "invoice.pdf", "caption": "Invoice"}},
    {"type": "sticker", "media": {"id": "798882015472548"}},
    {"type": "interactive", "interactive": BUTTONS},
    {"type": "interactive", "interactive": LIST, "reply_to": "wamid.HBgLREVG"},
]

BAD = [  # (content, the fields the 422 names)
    ({"type": "template", "template": {"language": "en_US"}}, ["template.name"]),
    ({"type": "image", "media": {"link": "https://cdn.example.com/a.jpg", "id": "1"}}, ["media"]),
    ({"type": "interactive", "interactive": {**BUTTONS, "action": {"buttons": BUTTONS["action"]["buttons"] * 2}}},
     ["interactive.action.buttons"]),
    ({"type": "image", "template": TEMPLATE}, ["media", "template"]),
    ({"type": "text"}, ["text"]),
    ({"type": "text", "text": ""}, ["text"]),
    ({"type": "audio", "media": {"id": "1", "caption": "no captions on audio"}}, ["media.caption"]),
    ({"type": "interactive", "interactive": {**LIST, "action": {"button": "x" * 21, "sections": []}}},
     ["interactive.action.button", "interactive.action.sections"]),
    ({"type": "location", "text": "x"}, ["type"]),
    ({"type": "text", "text": "hi", "reply_to": ""}, ["reply_to"]),
    ({"type": "text", "text": "hi", "media_url": "https://x.example"}, ["media_url"]),
]


async def test_every_message_type_is_accepted_and_passed_on(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, js, orgs):
        org, headers = await new_org(orgs)
        sender_id = (await client.post("/v1/senders", headers=headers,
                                       json={"name": "s", "provider": "simulator"})).json()["id"]
        ids = []
        for content in GOOD:
            r = await client.post("/v1/messages", headers=headers, json={"sender_id": sender_id, "to": TO, **content})
            assert r.status_code == 202, (content, r.text)
            ids.append(r.json()["id"])
        sub = await js.pull_subscribe(f"sb.cmd.{org.id}.message.send", durable="test_types",
                                      stream="SWITCHBOARD_COMMANDS")
        got: dict[str, dict] = {}
        while len(got) < len(ids):
            for raw in await sub.fetch(len(ids), timeout=REPLY):
                ce = CloudEvent.from_json_bytes(raw.data)
                assert ce.type == commands.SEND_MESSAGE
                got[ce.id] = ce.data
                await raw.ack()
    for mid, content in zip(ids, GOOD, strict=True):
        cmd = commands.SendMessage.model_validate(got[mid])
        sent = cmd.model_dump(mode="json", exclude_none=True, include=set(content) | {"text"})
        assert sent == {"text": "", **content}, (sent, content)


async def test_bad_content_is_a_422_naming_the_field(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, _, orgs):
        _, headers = await new_org(orgs)
        sender_id = (await client.post("/v1/senders", headers=headers,
                                       json={"name": "s", "provider": "simulator"})).json()["id"]
        for content, names in BAD:
            r = await client.post("/v1/messages", headers=headers, json={"sender_id": sender_id, "to": TO, **content})
            assert r.status_code == 422, (content, r.text)
            error = r.json()["error"]
            assert error["code"] == "validation_error"
            assert sorted({f["field"] for f in error["details"]["fields"]}) == names, (content, error)
            assert error["message"] == f"invalid fields: {', '.join(names)}"
        r = await client.post("/v1/messages", headers=headers, json={
            "sender_id": sender_id, "to": TO, "type": "image", "media": {"id": "1", "link": "https://x.example/a"}})
        [field] = r.json()["error"]["details"]["fields"]
        assert "exactly one of `link` or `id`" in field["message"]
