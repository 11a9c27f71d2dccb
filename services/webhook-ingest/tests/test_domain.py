"""Normalization of provider webhooks (pure; no infrastructure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard_contracts import message, sender
from switchboard_webhook_ingest.domain import meta, waha
from switchboard_webhook_ingest.domain.facts import NotADelivery
from switchboard_webhook_ingest.domain.meta_delivery import Delivery, phone_number_ids
from switchboard_webhook_ingest.domain.signatures import meta_signature_valid, waha_signature_valid

from .helpers import body_of, meta_signature, waha_signature
from .payloads import (META_MESSAGE_TYPES, meta_change, meta_delivery, meta_message, meta_status,
                       meta_value_error, waha_ack, waha_envelope, waha_message, waha_session_status)

REF = meta.SenderRef("org-1", "sender-1")
OTHER = meta.SenderRef("org-1", "sender-2")
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def normalize(doc: dict, routes=None):
    return meta.normalize(Delivery.model_validate(doc), routes or {"111": REF}, body_of(doc), NOW)


@pytest.mark.parametrize("kind", META_MESSAGE_TYPES)
def test_every_meta_message_type_becomes_message_received(kind):
    raw = meta_message(kind, wamid=f"wamid.{kind}", text="hello", context_wamid="wamid.prev")
    facts, unknown = normalize(meta_delivery(("waba", [meta_change("111", messages=[raw])])))
    assert unknown == set()
    [fact] = facts
    assert fact.event.type == message.RECEIVED and fact.event.orgid == "org-1"
    data = message.MessageReceived.model_validate(fact.event.data)
    assert data.provider_message_id == f"wamid.{kind}" and data.sender_id == "sender-1"
    assert data.from_ == "+16505551234" and data.to == "+15550001111" and data.contact_name == "Ana"
    assert data.type == raw["type"] and data.timestamp == datetime.fromtimestamp(1_764_000_000, UTC)
    assert fact.event.id == message.received_event_id("sender-1", f"wamid.{kind}")
    body = raw.get(raw["type"])
    if kind in ("image", "audio", "video", "document", "sticker"):
        assert data.media.id == body["id"] and data.media.mime_type == body["mime_type"]
        assert data.media.sha256 == body["sha256"]
    else:
        assert data.media is None
    if kind in ("text", "image", "video", "document"):
        assert data.text == "hello"
    if kind.startswith("interactive_"):
        assert data.text == body[body["type"]]["title"] and data.content == body
    if kind == "button":
        assert data.text == body["text"] and data.context.provider_message_id
    if kind == "reaction":
        assert data.text == body["emoji"] and data.content["message_id"] == body["message_id"]
    if kind in ("location", "order", "system"):
        assert data.content == body
    if kind == "contacts":
        assert data.content == {"contacts": raw["contacts"]}
    if kind == "unsupported":
        assert data.content["errors"][0]["code"] == 131051
    if "context" in raw:
        assert data.context.provider_message_id == raw["context"]["id"]


def test_every_entry_change_message_and_status_is_read():
    doc = meta_delivery(
        ("waba-1", [meta_change("111", messages=[meta_message("text", wamid="w1"),
                                                 meta_message("text", wamid="w2")]),
                    meta_change("222", statuses=[meta_status("delivered", wamid="o1"),
                                                 meta_status("read", wamid="o1")])]),
        ("waba-2", [meta_change("111", statuses=[meta_status("sent", wamid="o2")],
                                errors=[meta_value_error()])]))
    facts, unknown = normalize(doc, {"111": REF, "222": OTHER})
    assert unknown == set()
    assert [(f.event.type, f.event.data.get("provider_message_id") or f.event.data.get("code"))
            for f in facts] == [(message.RECEIVED, "w1"), (message.RECEIVED, "w2"), (message.STATUS, "o1"),
                                (message.STATUS, "o1"), (message.STATUS, "o2"), (sender.ERROR, 131000)]
    assert [f.event.data["sender_id"] for f in facts[2:4]] == ["sender-2", "sender-2"]
    assert len({f.event.id for f in facts}) == 6


def test_statuses_carry_errors_callback_conversation_and_pricing():
    ours = "3f2b8c1e-0000-4000-8000-000000000001"
    doc = meta_delivery(("waba", [meta_change("111", statuses=[
        meta_status("sent", wamid="o1", callback=ours),
        meta_status("failed", wamid="o2", callback="erp-ref-17"),
        meta_status("played", wamid="o3")], with_bsuid=True)]))
    facts, _ = normalize(doc)
    sent, failed, played = (message.MessageStatus.model_validate(f.event.data) for f in facts)
    assert sent.message_id == ours and sent.client_ref == ours and sent.recipient == "+16505551234"
    assert sent.conversation["id"] and sent.pricing["category"] and sent.recipient_user_id
    assert failed.message_id is None and failed.client_ref == "erp-ref-17"
    assert failed.status == "failed" and failed.error.code == 131026 and failed.error.title
    assert played.status == "played"
    assert facts[0].event.id == message.provider_status_event_id("sender-1", "o1", "sent")


def test_only_phone_numbers_become_e164_group_ids_and_bsuids_pass_through():
    group = {**meta_status("sent", wamid="g1", recipient="fowefinoewcnw"), "recipient_type": "group"}
    bsuid = meta_status("delivered", wamid="b1", recipient="US.13491208655302741918")
    digits_group = {**meta_status("read", wamid="g2", recipient="120363025246125486"), "recipient_type": "group"}
    phone = meta_status("read", wamid="p1", recipient="16505551234")
    doc = meta_delivery(("waba", [meta_change("111", statuses=[group, bsuid, digits_group, phone])]))
    recipients = [f.event.data["recipient"] for f in normalize(doc)[0]]
    assert recipients == ["fowefinoewcnw", "US.13491208655302741918", "120363025246125486", "+16505551234"]


def test_bsuid_fields_are_accepted_and_kept():
    doc = meta_delivery(("waba", [meta_change("111", messages=[meta_message("text", wamid="w1")],
                                              with_bsuid=True)]))
    [fact] = normalize(doc)[0]
    assert fact.event.data["from_user_id"].startswith("US.")


def test_changes_of_unknown_numbers_are_set_apart():
    doc = meta_delivery(("waba", [meta_change("111", messages=[meta_message("text", wamid="w1")]),
                                  meta_change("999", messages=[meta_message("text", wamid="w2")])]))
    facts, unknown = normalize(doc)
    assert [f.event.data["provider_message_id"] for f in facts] == ["w1"] and unknown == {"999"}
    assert phone_number_ids(doc) == {"111", "999"}
    assert phone_number_ids({"hello": 1}) is None and phone_number_ids([1]) is None


def test_identical_text_and_time_are_still_two_messages():
    a = meta_message("text", wamid="wamid.A", text="same")
    b = meta_message("text", wamid="wamid.B", text="same")
    facts, _ = normalize(meta_delivery(("waba", [meta_change("111", messages=[a, b])])))
    assert len({f.event.id for f in facts}) == 2


def test_not_a_meta_delivery():
    with pytest.raises(NotADelivery):
        normalize({"object": "page", "entry": [{"id": "1", "changes": []}]})


def test_waha_message_ack_and_session_status():
    msg = waha_envelope("message", waha_message(message_id="AAA", body="hola", has_media=True, reply_to="BBB"),
                        session="shop", event_id="evt_1")
    [fact] = waha.normalize(waha.Envelope.model_validate(msg), REF)
    data = message.MessageReceived.model_validate(fact.event.data)
    assert data.from_ == "+16505551234" and data.text == "hola" and data.media.url
    assert data.context.provider_message_id and data.type in ("image", "video", "audio", "document", "sticker")
    assert fact.subject.startswith("sb.ingest.org-1.message.received.")

    for ack, expected in ((-1, "failed"), (1, "sent"), (2, "delivered"), (3, "read"), (4, "played")):
        env = waha.Envelope.model_validate(waha_envelope("message.ack", waha_ack(message_id="CCC", ack=ack),
                                                         event_id=f"evt_ack{ack}"))
        [fact] = waha.normalize(env, REF)
        status = message.MessageStatus.model_validate(fact.event.data)
        assert status.status == expected and status.message_id is None and status.recipient == "+16505551234"
        assert (status.error is not None) == (expected == "failed")
    pending = waha.Envelope.model_validate(waha_envelope("message.ack", waha_ack(message_id="CCC", ack=0)))
    assert waha.normalize(pending, REF) == []

    env = waha.Envelope.model_validate(waha_envelope("session.status", waha_session_status("SCAN_QR_CODE")))
    [fact] = waha.normalize(env, REF)
    assert fact.event.type == sender.SESSION_STATUS and fact.event.data["status"] == "SCAN_QR_CODE"


def test_waha_own_messages_and_other_events_publish_nothing():
    own = waha_message(message_id="true_16505551234@c.us_X")
    own["fromMe"] = True
    assert waha.normalize(waha.Envelope.model_validate(waha_envelope("message", own)), REF) == []
    assert waha.normalize(waha.Envelope.model_validate(waha_envelope("presence.update", {})), REF) == []


def test_signatures():
    body = b'{"object": "whatsapp_business_account"}'
    header = meta_signature("s3cret", body)["X-Hub-Signature-256"]
    assert meta_signature_valid("s3cret", body, header)
    assert not meta_signature_valid("other", body, header)
    assert not meta_signature_valid("s3cret", body[:-1] + b"]", header)
    assert not meta_signature_valid("s3cret", body, None) and not meta_signature_valid("s3cret", body, "md5=x")
    waha_header = waha_signature("k", body)["X-Webhook-Hmac"]
    assert waha_signature_valid("k", body, waha_header) and not waha_signature_valid("k2", body, waha_header)
    assert not waha_signature_valid("k", body, None)
