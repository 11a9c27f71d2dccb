"""Receivers that misbehave: each way is a recorded failed attempt, never a stuck delivery — a slow
answer (past the timeout), a reset connection, a redirect (not followed), a huge answer; `Retry-After`
on 429 is honoured; an event that fails the whole schedule is given up and the line goes on; an
endpoint failing every attempt for the configured time is disabled."""

from __future__ import annotations

import asyncio
import json

from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.webhook_receiver import Receiver, Reply

from .helpers import as_org, endpoint, eventually, publish_received, running_webhooks


async def _attempts(http, org, endpoint_id, count):
    items = (await http.get(f"/v1/webhook-endpoints/{endpoint_id}/attempts", headers=as_org(org),
                            params={"limit": 200})).json()["items"]
    return list(reversed(items)) if len(items) >= count else None


async def test_every_misbehaviour_is_a_failed_attempt_then_the_retry_succeeds(nats_url, database_url):
    org = new_id()
    misbehaviours = [Reply(200, delay=3.0), Reply(reset=True), Reply(302, headers={"location": "http://127.0.0.1:9/"}),
                     Reply(200, body=b"x" * 65536, body_repeat=4), Reply(500)]
    tries: dict[str, int] = {}

    def respond(request):
        n = tries[request.headers["webhook-id"]] = tries.get(request.headers["webhook-id"], 0) + 1
        return misbehaviours[len(tries) - 1] if n == 1 else Reply(200)

    async with running_webhooks(nats_url, database_url, webhook_timeout_seconds=1.0) as (js, http), \
            Receiver(respond) as receiver:
        created = await endpoint(http, org, receiver.url, event_types=["message.received"])
        ids = await publish_received(js, org, len(misbehaviours))
        attempts = await eventually(lambda: _attempts(http, org, created["id"], 2 * len(ids)), timeout=30)
        assert [(a["event_id"], a["status"]) for a in attempts] == [
            (i, s) for i in ids for s in ("failed", "succeeded")]
        errors = [a["error"] for a in attempts if a["status"] == "failed"]
        assert errors == ["timeout", "connection_reset", "redirect_not_followed", "response_too_large", "http_500"]
        assert [a["http_status"] for a in attempts if a["status"] == "failed"] == [None, None, 302, 200, 500]
        assert attempts[0]["latency_ms"] >= 900  # the slow one: cut at the timeout
        assert all(a["attempt"] == 2 for a in attempts if a["status"] == "succeeded")
        assert len(receiver.received) == 2 * len(ids)  # nothing else: the redirect was not followed


async def test_retry_after_is_honoured(nats_url, database_url):
    org = new_id()

    def respond(_):
        return Reply(429, headers={"retry-after": "2"}) if len(receiver.received) == 1 else Reply(200)

    async with running_webhooks(nats_url, database_url) as (js, http), Receiver(respond) as receiver:
        await endpoint(http, org, receiver.url, event_types=["message.received"])
        await publish_received(js, org, 1)
        first, second = await receiver.wait_for(2, timeout=15)
        assert second.at - first.at >= 1.9  # not the schedule's 0.3 s


async def test_an_event_failing_the_whole_schedule_is_given_up_and_the_line_goes_on(nats_url, database_url):
    org = new_id()
    def respond(request):
        body = json.loads(request.body)
        return Reply(500) if body["data"]["text"].endswith(" 0") else Reply(200)

    async with running_webhooks(nats_url, database_url, webhook_retry_schedule="0,0.2,0.2") as (js, http), \
            Receiver(respond) as receiver:
        created = await endpoint(http, org, receiver.url, event_types=["message.received"])
        ids = await publish_received(js, org, 3)
        attempts = await eventually(lambda: _attempts(http, org, created["id"], 5), timeout=15)
        assert [(a["event_id"], a["attempt"], a["status"]) for a in attempts] == [
            (ids[0], 1, "failed"), (ids[0], 2, "failed"), (ids[0], 3, "failed"),
            (ids[1], 1, "succeeded"), (ids[2], 1, "succeeded")]
        assert attempts[2]["error"] == "http_500 (gave up after 3 attempts)"
        shown = (await http.get(f"/v1/webhook-endpoints/{created['id']}", headers=as_org(org))).json()
        assert shown["enabled"] and shown["failing_since"] is None  # a success since


async def test_failing_every_attempt_for_the_configured_time_disables_the_endpoint(nats_url, database_url):
    org = new_id()
    async with running_webhooks(nats_url, database_url, webhook_disable_after_hours=1.5 / 3600) as (js, http), \
            Receiver(lambda _: Reply(500)) as receiver:
        created = await endpoint(http, org, receiver.url, event_types=["message.received"])
        sub = await js.subscribe(f"sb.evt.{org}.webhook_endpoint.disabled", stream="SWITCHBOARD_EVENTS")
        await publish_received(js, org, 2)
        disabled = json.loads((await sub.next_msg(timeout=15)).data)
        assert disabled["data"]["reason"] == "failing" and disabled["data"]["failing_since"]
        assert disabled["data"]["actor"] == {"type": "system", "id": "webhook_failing"}
        tried = len(receiver.received)
        assert tried >= 4  # ~1.5 s of attempts 0.3 s apart
        await asyncio.sleep(1.0)
        assert len(receiver.received) == tried
        shown = (await http.get(f"/v1/webhook-endpoints/{created['id']}", headers=as_org(org))).json()
        assert shown["enabled"] is False and shown["disabled_reason"] == "failing"
        # enabled again: the head is tried at once, from where it stopped
        receiver.respond = lambda _: Reply(200)
        assert (await http.patch(f"/v1/webhook-endpoints/{created['id']}", headers=as_org(org),
                                 json={"enabled": True})).status_code == 200
        await eventually(lambda: len({r.headers["webhook-id"] for r in receiver.received}) == 2)
