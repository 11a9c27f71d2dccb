"""The Graph API body of every message type (providers/meta_body.py), as Meta documents it: built
from the command the way the dispatcher builds its OutboundMessage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard_contracts.commands import SendMessage
from switchboard_contracts.envelope import make_envelope
from switchboard_session_pool.dispatch.intake import outbound_message
from switchboard_session_pool.domain.outbound import OutboundMessage
from switchboard_session_pool.providers.meta_body import graph_body

ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "4915112345678"}


def outbound(**content) -> OutboundMessage:
    """The OutboundMessage the dispatcher makes of a send command with this content."""
    cmd = SendMessage(message_id="m-1", sender_id="s-1", to="+4915112345678", requested_at=datetime.now(UTC),
                      **content)
    ce = make_envelope(id="m-1", source="test", type="switchboard.command.message.send.v1", orgid="o", data=cmd)
    return outbound_message(ce, cmd, None, ttl_seconds=3600)


def body_of(**content) -> dict:
    return graph_body(outbound(**content))


def test_text():
    assert body_of(text="Hello") == {**ENVELOPE, "type": "text", "text": {"body": "Hello"},
                                     "biz_opaque_callback_data": "m-1"}


def test_a_reply_carries_the_context():
    body = body_of(text="Yes, it is", reply_to="wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")
    assert body["context"] == {"message_id": "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="}
    assert "context" not in body_of(text="no reply")


def test_template_with_every_kind_of_parameter():
    template = {"name": "order_update", "language": "en_US", "components": [
        {"type": "header", "parameters": [{"type": "document", "document": {"id": "77", "filename": "o.pdf"}}]},
        {"type": "body", "parameters": [
            {"type": "text", "text": "Ada", "parameter_name": "customer"},
            {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
            {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}}]},
        {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "STOP"}]},
        {"type": "button", "sub_type": "url", "index": 1, "parameters": [{"type": "text", "text": "42"}]}]}
    body = body_of(type="template", template=template, reply_to="wamid.X")
    assert body == {**ENVELOPE, "type": "template", "template": {
        "name": "order_update", "language": {"policy": "deterministic", "code": "en_US"},
        "components": template["components"]}, "context": {"message_id": "wamid.X"},
        "biz_opaque_callback_data": "m-1"}


def test_a_template_without_variables_has_no_components():
    assert body_of(type="template", template={"name": "hello_world", "language": "en_US"})["template"] == {
        "name": "hello_world", "language": {"policy": "deterministic", "code": "en_US"}}


@pytest.mark.parametrize(("type_", "media", "expected"), [
    ("image", {"link": "https://cdn.example.com/a.jpg", "caption": "Shop", "mime_type": "image/jpeg"},
     {"link": "https://cdn.example.com/a.jpg", "caption": "Shop"}),
    ("video", {"id": "1166846181421424", "caption": "Tour"}, {"id": "1166846181421424", "caption": "Tour"}),
    ("audio", {"id": "1013859600285441", "mime_type": "audio/ogg"}, {"id": "1013859600285441"}),
    ("document", {"link": "https://cdn.example.com/i.pdf", "filename": "invoice.pdf", "caption": "Invoice"},
     {"link": "https://cdn.example.com/i.pdf", "filename": "invoice.pdf", "caption": "Invoice"}),
    ("sticker", {"id": "798882015472548"}, {"id": "798882015472548"}),
])
def test_media(type_, media, expected):
    body = body_of(type=type_, media=media)
    assert body == {**ENVELOPE, "type": type_, type_: expected, "biz_opaque_callback_data": "m-1"}


def test_reply_buttons():
    interactive = {"type": "button", "header": {"type": "image", "image": {"id": "2762702990552401"}},
                   "body": {"text": "Keep the appointment?"}, "footer": {"text": "Lucky Shrub"},
                   "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                                          {"reply": {"id": "no", "title": "Reschedule"}}]}}
    body = body_of(type="interactive", interactive=interactive)
    assert body == {**ENVELOPE, "type": "interactive", "interactive": {
        "type": "button", "header": {"type": "image", "image": {"id": "2762702990552401"}},
        "body": {"text": "Keep the appointment?"}, "footer": {"text": "Lucky Shrub"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                               {"type": "reply", "reply": {"id": "no", "title": "Reschedule"}}]}},
        "biz_opaque_callback_data": "m-1"}


def test_list():
    interactive = {"type": "list", "header": {"type": "text", "text": "Shipping"}, "body": {"text": "Which?"},
                   "action": {"button": "Options", "sections": [
                       {"title": "Fast", "rows": [{"id": "express", "title": "Express", "description": "Next day"}]},
                       {"title": "Cheap", "rows": [{"id": "normal", "title": "Normal"}]}]}}
    body = body_of(type="interactive", interactive=interactive)
    assert body["interactive"] == interactive and body["type"] == "interactive"


def test_the_outbound_message_keeps_a_summary_as_its_text():
    m = outbound(type="image", media={"id": "1", "caption": "Our shop"})
    assert (m.type, m.text, m.media) == ("image", "[image] Our shop", {"id": "1", "caption": "Our shop"})
    assert outbound(text="hi").text == "hi"


def test_content_missing_is_an_error_not_an_empty_body():
    m = OutboundMessage(message_id="m", org_id="o", sender_id="s", sender_phone="", to="+1", text="",
                        client_ref=None, correlationid="c", causationid="c", type="template")
    with pytest.raises(ValueError, match="without its content"):
        graph_body(m)
