"""Recover re-sends exactly the range asked (the organization's events of the endpoint's types stored from
`since` until `until`, in stream order, trigger `recover`), beside the line, which goes on; resend sends
one event again; the audit export over the API is a file `verify` accepts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.webhook_receiver import Receiver, Reply
from switchboard_runtime import audit

from .helpers import SECRET_KEY, as_org, endpoint, eventually, publish_received, running_webhooks


async def _pause() -> datetime:
    await asyncio.sleep(0.05)
    moment = datetime.now(UTC)
    await asyncio.sleep(0.05)
    return moment


async def test_recover_resends_exactly_the_range_and_resend_one_event(nats_url, database_url):
    org, other = new_id(), new_id()
    async with running_webhooks(nats_url, database_url) as (js, http), \
            Receiver(lambda _: Reply(204)) as receiver:
        before = await publish_received(js, org, 4, "before")  # before the endpoint: never sent by the line
        t1 = await _pause()
        wanted = await publish_received(js, org, 6, "wanted")
        await publish_received(js, other, 3)
        t2 = await _pause()
        after = await publish_received(js, org, 3, "after")
        created = await endpoint(http, org, receiver.url, event_types=["message.received"])
        path = f"/v1/webhook-endpoints/{created['id']}"
        live = await publish_received(js, org, 2, "live")
        await receiver.wait_for(2)
        assert [r.headers["webhook-id"] for r in receiver.received] == live
        job = await http.post(f"{path}/recover", headers=as_org(org),
                              json={"since": t1.isoformat(), "until": t2.isoformat()})
        assert job.status_code == 202, job.text
        assert job.json()["kind"] == "recover" and job.json()["status"] == "queued"
        await receiver.wait_for(2 + len(wanted))
        await asyncio.sleep(0.5)
        assert [r.headers["webhook-id"] for r in receiver.received[2:]] == wanted  # exactly the range, in order
        done = await eventually(lambda: _job_done(http, org, path))
        assert done["delivered"] == len(wanted) and done["failed"] == 0
        attempts = (await http.get(f"{path}/attempts", headers=as_org(org), params={"limit": 200})).json()["items"]
        assert sorted(a["event_id"] for a in attempts if a["trigger"] == "recover") == sorted(wanted)
        assert not set(before + after) & {r.headers["webhook-id"] for r in receiver.received}

        resent = await http.post(f"{path}/resend/{wanted[2]}", headers=as_org(org))
        assert resent.status_code == 202, resent.text
        await receiver.wait_for(3 + len(wanted))
        assert receiver.received[-1].headers["webhook-id"] == wanted[2]
        assert (await http.post(f"{path}/resend/{before[0]}", headers=as_org(org))).status_code == 404  # never sent
        assert (await http.post(f"{path}/recover", headers=as_org(org),
                                json={"since": t2.isoformat(), "until": t1.isoformat()})).status_code == 422
        assert (await http.post(f"{path}/recover", headers=as_org(other),
                                json={"since": t1.isoformat()})).status_code == 404


async def _job_done(http, org, path):
    items = (await http.get(f"{path}/recoveries", headers=as_org(org))).json()["items"]
    recover = [j for j in items if j["kind"] == "recover"]
    return recover[0] if recover and recover[0]["status"] == "done" else None


async def test_the_audit_export_over_the_api_verifies(nats_url, database_url):
    org = new_id()
    async with running_webhooks(nats_url, database_url) as (js, http):
        since = await _pause()
        ids = await publish_received(js, org, 25)
        until = await _pause()
        r = await http.get("/v1/audit/export", headers=as_org(org),
                           params={"since": since.isoformat(), "until": until.isoformat()})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/x-ndjson")
        lines = r.content.splitlines(keepends=True)
        result = audit.verify_lines(lines, secret_key=SECRET_KEY)
        assert result.ok, result
        assert all(i.encode() in r.content for i in ids) and len(lines) == len(ids) + 2  # header, records, manifest
        lines[5] = lines[5].replace(b"hello", b"HELLO")
        assert not audit.verify_lines(lines, secret_key=SECRET_KEY).ok
