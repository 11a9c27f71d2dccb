"""Meta's template updates (status, quality, category) through POST /webhooks/meta against a real NATS
JetStream: routed by WABA, verified with its senders' app secret, published once per organization,
retries deduplicated; unknown WABAs quarantined, bad signatures 401, malformed updates 400."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from switchboard_contracts import message, template
from switchboard_contracts.ids import new_id

from .helpers import add_route, body_of, events, meta_signature, running_ingest, stream_messages
from .payloads import (meta_change, meta_delivery, meta_message, meta_template_category, meta_template_quality,
                       meta_template_status)

SECRET = "app-secret-1"
WABA = "102290129340398"
AT = 1_764_000_500  # the entries' `time`


async def waba_sender(nats_url, pnid="111", waba=WABA, app_secret=SECRET, org=None):
    org, sender_id = org or new_id(), new_id()
    await add_route(nats_url, "meta-cloud", pnid, org, sender_id, waba_id=waba, app_secret=app_secret,
                    verify_token="verify-1", access_token="EAAB-token")
    return org, sender_id


async def post(client, doc: dict, secret: str = SECRET):
    body = body_of(doc)
    return await client.post("/webhooks/meta", content=body, headers=meta_signature(secret, body))


async def test_a_status_update_is_one_event_per_organization_of_the_waba_and_a_retry_nothing(nats_url):
    org, _ = await waba_sender(nats_url, "111")
    await waba_sender(nats_url, "112", org=org)  # a second number of the same account, same organization
    other_org, _ = await waba_sender(nats_url, "113")  # another organization's number in the same account
    other_app, _ = await waba_sender(nats_url, "114", app_secret="another-app")  # subscribed with its own app
    doc = meta_delivery((WABA, [meta_template_status(
        "DISABLED", reason="INCORRECT_CATEGORY", category="UTILITY",
        other_info={"title": "FIRST_PAUSE", "description": "paused for low quality"},
        disable_date="2026-12-01")], AT))
    async with running_ingest(nats_url) as client:
        before = datetime.now(UTC)
        r = await post(client, doc)
        assert r.status_code == 200 and r.json() == {"published": 2, "duplicates": 0, "quarantined": False}
        again = await post(client, doc)
        assert again.status_code == 200 and again.json() == {"published": 0, "duplicates": 2, "quarantined": False}
    [ev] = await events(nats_url, org)
    assert ev.type == template.STATUS_CHANGED and ev.subject == "123456" and ev.orgid == org
    assert ev.source == "switchboard/webhook-ingest"
    assert ev.time == datetime.fromtimestamp(AT, UTC)
    data = template.TemplateStatusChanged.model_validate(ev.data)
    assert (data.waba_id, data.message_template_id, data.message_template_name,
            data.message_template_language) == (WABA, "123456", "order_shipped", "en_US")
    assert (data.event, data.reason, data.message_template_category) == ("DISABLED", "INCORRECT_CATEGORY", "UTILITY")
    assert data.other_info == {"title": "FIRST_PAUSE", "description": "paused for low quality"}
    assert data.disable_info == {"disable_date": "2026-12-01"}
    assert data.origin == "webhook" and data.template_id is None and data.version is None
    assert data.previous_status is None and before - timedelta(seconds=1) <= data.at <= datetime.now(UTC)
    [twin] = await events(nats_url, other_org)
    assert twin.data == ev.data and twin.id != ev.id
    assert await events(nats_url, other_app) == []  # its app did not sign this delivery


async def test_quality_and_category_updates_and_a_later_change_to_the_same_value(nats_url):
    org, _ = await waba_sender(nats_url)
    doc = meta_delivery((WABA, [meta_template_quality("YELLOW", "GREEN"),
                                meta_template_category("MARKETING", "UTILITY", correct="MARKETING")], AT))
    later = meta_delivery((WABA, [meta_template_quality("YELLOW", "GREEN")], AT + 3600))
    async with running_ingest(nats_url) as client:
        assert (await post(client, doc)).json() == {"published": 2, "duplicates": 0, "quarantined": False}
        assert (await post(client, doc)).json() == {"published": 0, "duplicates": 2, "quarantined": False}
        # the same value, an hour later: Meta reports a new change, not a retry
        assert (await post(client, later)).json() == {"published": 1, "duplicates": 0, "quarantined": False}
        # the same change with its keys in another order is the same fact
        reordered = json.loads(json.dumps(later))
        value = reordered["entry"][0]["changes"][0]["value"]
        reordered["entry"][0]["changes"][0]["value"] = dict(reversed(list(value.items())))
        assert (await post(client, reordered)).json()["duplicates"] == 1
    quality, category, quality_later = await events(nats_url, org)
    assert quality.type == quality_later.type == template.QUALITY_CHANGED and quality.subject == "123456"
    q = template.TemplateQualityChanged.model_validate(quality.data)
    assert (q.waba_id, q.message_template_id, q.previous_quality_score, q.new_quality_score) == (
        WABA, "123456", "GREEN", "YELLOW")
    assert quality_later.id != quality.id and quality_later.time == datetime.fromtimestamp(AT + 3600, UTC)
    assert category.type == template.CATEGORY_CHANGED
    c = template.TemplateCategoryChanged.model_validate(category.data)
    assert (c.message_template_id, c.previous_category, c.new_category, c.correct_category) == (
        "123456", "UTILITY", "MARKETING", "MARKETING")


async def test_an_update_for_a_waba_no_sender_has_is_quarantined(nats_url):
    org, _ = await waba_sender(nats_url)
    await add_route(nats_url, "meta-cloud", "222", org, new_id(), app_secret=SECRET)  # written without a WABA
    stranger = body_of(meta_delivery(("404404", [meta_template_status()], AT)))
    known_and_not = meta_delivery((WABA, [meta_template_status("APPROVED")], AT),
                                  ("404404", [meta_template_status("REJECTED")], AT))
    async with running_ingest(nats_url) as client:
        r = await client.post("/webhooks/meta", content=stranger, headers=meta_signature("whatever", stranger))
        assert r.status_code == 200 and r.json() == {"published": 0, "duplicates": 0, "quarantined": True}
        r = await post(client, known_and_not)
        assert r.status_code == 200 and r.json() == {"published": 1, "duplicates": 0, "quarantined": True}
    kept = await stream_messages(nats_url, "sb.quarantine.>", stream="SWITCHBOARD_QUARANTINE")
    assert [m.data for m in kept] == [stranger, body_of(known_and_not)]
    assert all("404404" in m.headers["Switchboard-Reason"] and "WABA" in m.headers["Switchboard-Reason"]
               for m in kept)
    assert [e.data["event"] for e in await events(nats_url, org)] == ["APPROVED"]


async def test_a_template_update_not_signed_by_its_wabas_senders_is_401(nats_url):
    org, _ = await waba_sender(nats_url)
    await waba_sender(nats_url, "222", waba="555", app_secret="another-app")  # another account's sender
    doc = meta_delivery((WABA, [meta_template_status()], AT))
    body = body_of(doc)
    async with running_ingest(nats_url) as client:
        for secret in ("not-the-secret", "another-app"):
            r = await post(client, doc, secret)
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", secret
        r = await client.post("/webhooks/meta", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 401
        altered = body.replace(b"APPROVED", b"REJECTED")
        r = await client.post("/webhooks/meta", content=altered, headers=meta_signature(SECRET, body))
        assert r.status_code == 401
        assert await events(nats_url, org) == []
        assert (await post(client, doc)).status_code == 200
    assert [e.type for e in await events(nats_url, org)] == [template.STATUS_CHANGED]


async def test_a_malformed_template_update_is_400_naming_the_field(nats_url):
    org, _ = await waba_sender(nats_url)

    def without(change: dict, name: str) -> dict:
        change["value"].pop(name)
        return change

    where = "entry.0.changes.1.value"
    broken = {f"{where}.message_template_id: missing": without(meta_template_status(), "message_template_id"),
              f"{where}.event: missing": without(meta_template_status(), "event"),
              f"{where}.new_quality_score: missing": without(meta_template_quality(), "new_quality_score"),
              f"{where}.new_category: missing": without(meta_template_category(), "new_category"),
              f"{where}.message_template_id: True is not an id": {
                  "field": "template_category_update",
                  "value": {**meta_template_category()["value"], "message_template_id": True}},
              f"{where}.other_info": meta_template_status(other_info=["not", "an", "object"]),
              f"{where}": {"field": "message_template_status_update", "value": "APPROVED"}}
    async with running_ingest(nats_url) as client:
        for named, change in broken.items():
            # with a valid message change beside it: nothing of the delivery is published
            doc = meta_delivery((WABA, [meta_change("111", messages=[meta_message("text", wamid="w1")]), change], AT))
            r = await post(client, doc)
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_delivery", (named, r.text)
            assert named in r.json()["error"]["message"], (named, r.text)
            assert (await post(client, doc, "not-the-secret")).status_code == 401
        template_only = meta_delivery((WABA, [without(meta_template_status(), "event")], AT))
        r = await post(client, template_only)
        assert r.status_code == 400 and "value.event: missing" in r.json()["error"]["message"]
        assert (await post(client, template_only, "not-the-secret")).status_code == 401
    assert await events(nats_url, org) == []


async def test_a_delivery_with_a_message_and_a_template_update_publishes_both(nats_url):
    org, sender_id = await waba_sender(nats_url)
    doc = meta_delivery((WABA, [meta_change("111", messages=[meta_message("text", wamid="wamid.M1")])]),
                        (WABA, [meta_template_status("PAUSED", reason=None)], AT),
                        (WABA, [{"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}], AT))
    async with running_ingest(nats_url) as client:
        r = await post(client, doc)
        assert r.status_code == 200 and r.json() == {"published": 2, "duplicates": 0, "quarantined": False}
        assert (await post(client, doc)).json() == {"published": 0, "duplicates": 2, "quarantined": False}
    received, paused = sorted(await events(nats_url, org), key=lambda e: e.type)
    assert received.type == message.RECEIVED and received.data["sender_id"] == sender_id
    assert paused.type == template.STATUS_CHANGED and paused.data["event"] == "PAUSED"
    assert paused.data["reason"] is None

