"""The endpoints API through the running service: what is refused (422: not http(s), a private address
unless allowed, an unknown event type; 404: another organization's), what a change does (PATCH, delete),
the secret shown once and never again, and a rotation during which both secrets sign."""

from __future__ import annotations

import asyncio

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.webhook_receiver import Receiver

from .helpers import as_org, endpoint, publish_received, running_webhooks


async def test_bad_endpoints_are_refused_with_the_field(nats_url, database_url):
    org = new_id()
    async with running_webhooks(nats_url, database_url, allow_private_urls=False) as (_, http):
        for body, code in [({"url": "ftp://example.com/x"}, "validation_error"),
                           ({"url": "http://example.com:99999/x"}, "invalid_url"),
                           ({"url": "not a url"}, "validation_error"),
                           ({"url": "http://127.0.0.1:9/hook"}, "url_refused"),
                           ({"url": "http://10.1.2.3/hook"}, "url_refused"),
                           ({"url": "http://[::1]/hook"}, "url_refused"),
                           ({"url": "http://169.254.169.254/latest"}, "url_refused"),
                           ({"url": "https://93.184.215.14/h", "event_types": ["nothing.*"]}, "invalid_event_types"),
                           ({"url": "https://93.184.215.14/h", "event_types": ["message.nope"]}, "invalid_event_types"),
                           ({"url": "https://93.184.215.14/h", "event_types": []}, "validation_error"),
                           ({"url": "https://93.184.215.14/h", "secret": "mine"}, "validation_error")]:
            r = await http.post("/v1/webhook-endpoints", headers=as_org(org), json=body)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["error"]["code"] == code, (body, r.text)
        ok = await http.post("/v1/webhook-endpoints", headers=as_org(org),
                             json={"url": "https://93.184.215.14/h", "event_types": ["message.*", "message.status", "*"]})
        assert ok.status_code == 201 and ok.json()["event_types"] == ["*"]
        assert (await http.patch(f"/v1/webhook-endpoints/{ok.json()['id']}", headers=as_org(org),
                                 json={"url": "http://192.168.1.1/"})).status_code == 422
        assert (await http.post("/v1/webhook-endpoints", headers={"x-switchboard-org": org},
                                json={"url": "https://93.184.215.14/h"})).status_code == 401


async def test_crud_is_per_organization_and_the_secret_is_shown_once(nats_url, database_url):
    org, other = new_id(), new_id()
    async with running_webhooks(nats_url, database_url) as (_, http):
        created = await endpoint(http, org, "http://127.0.0.1:9/a", event_types=["conversation.assigned"],
                                 description="ERP")
        path = f"/v1/webhook-endpoints/{created['id']}"
        assert (await http.get(path, headers=as_org(other))).status_code == 404
        assert (await http.delete(path, headers=as_org(other))).status_code == 404
        assert (await http.get("/v1/webhook-endpoints", headers=as_org(other))).json()["items"] == []
        listed = (await http.get("/v1/webhook-endpoints", headers=as_org(org))).json()["items"]
        assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
        changed = await http.patch(path, headers=as_org(org), json={"event_types": ["message.*"], "enabled": False})
        assert changed.status_code == 200, changed.text
        assert changed.json()["enabled"] is False and changed.json()["disabled_reason"] == "api"
        assert (await http.patch(path, headers=as_org(org), json={})).status_code == 422
        assert (await http.patch(path, headers=as_org(org), json={"url": None})).status_code == 422
        again = (await http.patch(path, headers=as_org(org), json={"enabled": True})).json()
        assert again["enabled"] is True and again["disabled_reason"] is None
        assert (await http.get(f"{path}/attempts", headers=as_org(org), params={"status": "maybe"})).status_code == 422
        assert (await http.get(f"{path}/attempts", headers=as_org(org), params={"cursor": "!!"})).status_code == 400
        assert (await http.delete(path, headers=as_org(org))).status_code == 204
        assert (await http.get(path, headers=as_org(org))).status_code == 404
        assert (await http.post(f"{path}/rotate-secret", headers=as_org(org))).status_code == 404


async def test_during_a_rotation_both_secrets_sign(nats_url, database_url):
    org = new_id()
    async with running_webhooks(nats_url, database_url) as (js, http), Receiver() as receiver:
        created = await endpoint(http, org, receiver.url, event_types=["message.received"])
        old = created["secret"]
        rotated = await http.post(f"/v1/webhook-endpoints/{created['id']}/rotate-secret", headers=as_org(org))
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != old and new.startswith("whsec_") and rotated.json()["previous_secret_expires_at"]
        await asyncio.sleep(0.5)  # the lane starts again on the endpoint's new version (the API wakes it)
        [event_id] = await publish_received(js, org, 1)
        [request] = await receiver.wait_for(1)
        assert request.headers["webhook-id"] == event_id
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        for secret in (old, new):  # a receiver still on the old secret, and one already on the new
            assert Webhook(secret).verify(request.body, request.headers)["id"] == event_id
        try:
            Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)
            raise AssertionError("a wrong secret verified")
        except WebhookVerificationError:
            pass


async def test_the_audit_export_is_for_admins(nats_url, database_url):
    org = new_id()
    async with running_webhooks(nats_url, database_url) as (_, http):
        for role in ("agent", "viewer"):
            r = await http.get("/v1/audit/export", headers=as_org(org, role), params={"since": "2026-01-01T00:00:00Z"})
            assert r.status_code == 403, r.text
        r = await http.get("/v1/audit/export", headers=as_org(org), params={"since": "2026-01-01T00:00:00"})
        assert r.status_code == 422  # a time without its zone
