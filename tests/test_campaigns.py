"""Campaigns end to end as `make run` runs them: contacts from CSV and JSON (normalized, deduplicated,
invalid rows reported), the blocklist, personalization, start → every contact sent exactly once with
live statistics, pause/resume/cancel, results as CSV, and the 4xx answers for bad input."""

from __future__ import annotations

import csv
import io
import time

from .e2e_platform import api, poll, stream_events


def senders(c, n: int) -> list[str]:
    return [c.post("/v1/senders", json={"name": f"camp{i}", "provider": "simulator"}).json()["id"] for i in range(n)]


def campaign(c, sender_ids, **extra) -> dict:
    body = {"name": "spring", "sender_ids": sender_ids, "text": "Hi {{name|there}}, your code is {{code}}", **extra}
    created = c.post("/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def add_contacts(c, campaign_id: str, prefix: str, n: int) -> None:
    """`n` contacts +49151<prefix>NNNN7, each with its `code`; all accepted."""
    contacts = [{"phone": f"+49151{prefix}{i:04d}7", "variables": {"code": str(i)}} for i in range(n)]
    added = c.post(f"/v1/campaigns/{campaign_id}/contacts", json={"contacts": contacts}).json()
    assert added["accepted"] == n, added


def test_a_campaign_sends_every_contact_once_with_live_stats(platform):
    with api(platform) as c:
        ids = senders(c, 3)
        camp = campaign(c, ids)
        assert camp["status"] == "draft" and camp["stats"]["total"] == 0
        rows = ["phone;name;code", "+49 151 1000 0001;Ada;A1", "004915110000002;;B2", "+4915110000001;Dup;C3",
                "not a phone;X;D4", "+4915110000003;Bo;", "", "+4915110000004;Cy;E5"]
        rows += [f"+49151200{i:04d}7;P{i};K{i}" for i in range(40)]
        upload = c.post(f"/v1/campaigns/{camp['id']}/contacts", content="\n".join(rows).encode(),
                        headers={"Content-Type": "text/csv"})
        assert upload.status_code == 200, upload.text
        report = upload.json()
        assert report["accepted"] == 43 and report["duplicates"] == 1
        assert [r["line"] for r in report["rejected"]] == [5, 6]
        assert "code" in report["rejected"][1]["reason"]
        more = c.post(f"/v1/campaigns/{camp['id']}/contacts",
                      json={"contacts": [{"phone": "+4915110000005", "name": "Di", "variables": {"code": 9}},
                                         {"phone": "+4915110000001", "variables": {"code": "again"}}]})
        assert more.json()["accepted"] == 1 and more.json()["duplicates"] == 1
        assert c.post("/v1/blocklist", json={"phone": "+4915110000004", "reason": "asked"}).status_code == 201

        started = c.post(f"/v1/campaigns/{camp['id']}/start")
        assert started.status_code == 200 and started.json()["status"] == "running", started.text
        done = poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json(), lambda x: x["status"] == "completed",
                    timeout=60)
        stats = done["stats"]
        assert stats["total"] == 44 and stats["blocked"] == 1 and stats["pending"] == stats["queued"] == 0
        assert stats["sent"] == 43 and stats["failed"] == 0

        sent = c.get(f"/v1/campaigns/{camp['id']}/contacts", params={"status": "blocked"}).json()["items"]
        assert [r["phone"] for r in sent] == ["+4915110000004"]
        first = c.get(f"/v1/campaigns/{camp['id']}/contacts", params={"limit": 2}).json()
        assert first["next_cursor"] and len(first["items"]) == 2
        # a campaign's messages reach the history from their events (it may trail the statistics a moment)
        message = poll(lambda: c.get(f"/v1/messages/{first['items'][0]['message_id']}"),
                       lambda r: r.status_code == 200).json()
        assert message["text"] == "Hi Ada, your code is A1"
        second = poll(lambda: c.get(f"/v1/messages/{first['items'][1]['message_id']}"),
                      lambda r: r.status_code == 200).json()
        assert second["text"] == "Hi there, your code is B2" and second["to"] == "+4915110000002"

        results = c.get(f"/v1/campaigns/{camp['id']}/results.csv")
        assert results.status_code == 200 and results.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(results.text)))
        assert len(table) == 44 and {r["status"] for r in table} <= {"sent", "delivered", "read", "blocked"}
        listed = {x["id"]: x for x in c.get("/v1/campaigns", params={"limit": 200}).json()["items"]}
        assert listed[camp["id"]]["status"] == "completed" and listed[camp["id"]]["stats"]["sent"] == 43


def test_pause_resume_and_cancel_take_effect_at_once(platform):
    with api(platform) as c:
        ids = senders(c, 1)
        camp = campaign(c, ids, delay_ms={"min": 150, "max": 200})
        add_contacts(c, camp["id"], "300", 200)
        c.post(f"/v1/campaigns/{camp['id']}/start")
        poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json(), lambda x: x["stats"]["sent"] >= 3)
        assert c.patch(f"/v1/campaigns/{camp['id']}", json={"text": "changed"}).status_code == 409
        paused = c.post(f"/v1/campaigns/{camp['id']}/pause")
        assert paused.status_code == 200 and paused.json()["status"] == "paused"
        time.sleep(0.5)  # commands already published finish; nothing new is taken
        held = c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]
        time.sleep(1.0)
        assert c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]["pending"] == held["pending"] > 0
        assert c.post(f"/v1/campaigns/{camp['id']}/resume").json()["status"] == "running"
        poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json(), lambda x: x["stats"]["pending"] < held["pending"])
        cancelled = c.post(f"/v1/campaigns/{camp['id']}/cancel")
        assert cancelled.json()["status"] == "cancelled"
        time.sleep(0.5)
        left = c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]
        time.sleep(1.0)
        assert c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]["pending"] == left["pending"] > 0
        assert c.post(f"/v1/campaigns/{camp['id']}/resume").status_code == 409


def test_bad_campaigns_get_clear_errors(platform):
    with api(platform) as c:
        ids = senders(c, 1)
        base = {"name": "x", "sender_ids": ids, "text": "Hi {{name}}"}
        for extra, field in (({"window": {"start": "09:00", "end": "09:00"}}, "window"),
                             ({"schedule": {"start_at": "2020-01-01T00:00:00Z"}}, "start_at"),
                             ({"timezone": "Mars/Olympus"}, "timezone"),
                             ({"text": "Hi {{nmae}}", "variables": ["name", "code"]}, "nmae"),
                             ({"text": "Hi {{name"}, "text"),
                             ({"template": {"name": "t", "language": "en_US"}}, "text"),
                             ({"sender_ids": None}, "sender")):
            r = c.post("/v1/campaigns", json={**base, **extra})
            assert r.status_code == 422 and field in r.text, (extra, r.status_code, r.text)
        camp = c.post("/v1/campaigns", json=base).json()
        assert c.post(f"/v1/campaigns/{camp['id']}/start").status_code == 409  # no contacts
        edited = c.patch(f"/v1/campaigns/{camp['id']}", json={"name": "renamed", "template": {
            "name": "promo", "language": "pt_BR", "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "{{name|cliente}}"}]}]}})
        assert edited.status_code == 200, edited.text
        assert edited.json()["name"] == "renamed" and edited.json()["content"]["type"] == "template"
        me = c.get("/v1/me").json()
        org = me["org_id"]
        published = poll(lambda: [e for e in stream_events(platform, f"sb.evt.{org}.campaign.edited")
                                  if e["subject"] == camp["id"]], lambda found: found, timeout=15)
        assert published[0]["data"]["name"] == "renamed"
        # the events an API action causes name the caller: here the organization's key
        assert published[0]["data"]["actor"] == me["actor"] and me["actor"]["type"] == "api_key"
        created = [e for e in stream_events(platform, f"sb.evt.{org}.campaign.created") if e["subject"] == camp["id"]]
        assert created[0]["data"]["actor"] == me["actor"]
        assert published[0]["data"]["content"]["template"]["language"] == "pt_BR"
        bad_edit = c.patch(f"/v1/campaigns/{camp['id']}", json={"window": {"start": "10:00", "end": "10:00"}})
        assert bad_edit.status_code == 422 and "window" in bad_edit.text
        no_phone = c.post(f"/v1/campaigns/{camp['id']}/contacts", content=b"name,code\nAda,1\n",
                          headers={"Content-Type": "text/csv"})
        assert no_phone.status_code == 422 and "phone" in no_phone.text
        lines = "phone,name,code\n" + "".join(f"+49151700{i:04d}7,Ana,{i}\n" for i in range(3000)) + "+4915110000019,Jos\xe9,1\n"
        latin1 = c.post(f"/v1/campaigns/{camp['id']}/contacts", content=lines.encode("latin-1"),
                        headers={"Content-Type": "text/csv"})
        assert latin1.status_code == 422 and "UTF-8" in latin1.text
        assert c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]["total"] == 0  # nothing half-imported
        assert c.get("/v1/campaigns/00000000-0000-0000-0000-000000000000").status_code == 404
        assert c.post("/v1/blocklist", json={"phone": "12"}).status_code == 422
        assert c.post("/v1/blocklist", json={"phone": "+4915199999917"}).status_code == 201
        blocked = poll(lambda: stream_events(platform, f"sb.evt.{org}.blocklist.added"),
                       lambda found: any(e["data"]["phone"] == "+4915199999917" for e in found), timeout=15)
        assert [e["data"]["actor"] for e in blocked if e["data"]["phone"] == "+4915199999917"] == [me["actor"]]
        assert c.get("/v1/campaigns", headers={"X-API-Key": "nope"}).status_code == 401


def test_stop_blocklists_and_start_lifts_it(platform):
    with api(platform) as c:
        sender = senders(c, 1)[0]

        def listed():
            return {b["phone"]: b for b in c.get("/v1/blocklist", params={"limit": 1000}).json()["items"]}

        c.post(f"/v1/senders/{sender}/simulate/inbound", json={"from": "+4915140000001", "text": " Stop! "})
        c.post(f"/v1/senders/{sender}/simulate/inbound", json={"from": "+4915140000002", "text": "stop by later?"})
        c.post(f"/v1/senders/{sender}/simulate/inbound", json={"from": "+4915140000003", "text": "PARAR"})
        entry = poll(listed, lambda b: "+4915140000001" in b and "+4915140000003" in b)["+4915140000001"]
        assert entry["source"] == "keyword" and "+4915140000002" not in listed()
        c.post(f"/v1/senders/{sender}/simulate/inbound", json={"from": "+4915140000001", "text": "start"})
        poll(listed, lambda b: "+4915140000001" not in b)
        assert c.delete("/v1/blocklist/+4915140000003").status_code == 204
        assert c.delete("/v1/blocklist/+4915140000003").status_code == 404


def test_no_sender_is_refused_and_a_slow_sender_is_not_flooded(platform):
    with api(platform) as c:
        gone = senders(c, 1)[0]
        assert c.delete(f"/v1/senders/{gone}").status_code == 204
        camp = campaign(c, [gone])
        c.post(f"/v1/campaigns/{camp['id']}/contacts", json={"contacts": [{"phone": "+4915150000007", "variables": {"code": 1}}]})
        refused = c.post(f"/v1/campaigns/{camp['id']}/start")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_senders"

        slow = c.post("/v1/senders", json={"name": "slow", "provider": "simulator", "quotas": {"per_minute": 25}}).json()["id"]
        camp = campaign(c, [slow])
        add_contacts(c, camp["id"], "600", 200)
        c.post(f"/v1/campaigns/{camp['id']}/start")
        poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json(), lambda x: x["stats"]["sent"] >= 25)
        time.sleep(1.0)
        stats = c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]
        assert stats["sent"] == 25  # the minute's quota, and no more
        assert stats["queued"] <= 25 and stats["pending"] >= 150  # about a minute's worth waits, not all 200
        c.post(f"/v1/campaigns/{camp['id']}/cancel")


def test_bulk_send_answers_per_recipient(platform):
    with api(platform) as c:
        sender = senders(c, 1)[0]
        recipients = [{"to": f"+49151800{i:04d}7", "client_ref": f"r{i}"} for i in range(300)]
        recipients += [{"to": "12"}, {"to": "+4915180000007"}]  # invalid, and a repeat of the first
        body = {"sender_id": sender, "text": "Our store opens at 9", "recipients": recipients}
        r = c.post("/v1/messages/bulk", json=body, headers={"Idempotency-Key": "bulk-1"})
        assert r.status_code == 202, r.text
        out = r.json()
        assert out["accepted"] == 300 and out["rejected"] == 2
        assert [x["reason"] for x in out["results"] if x["status"] == "rejected"][1] == "duplicate recipient"
        again = c.post("/v1/messages/bulk", json=body, headers={"Idempotency-Key": "bulk-1"}).json()
        assert [x.get("id") for x in again["results"]] == [x.get("id") for x in out["results"]]  # same ids
        last = out["results"][299]["id"]
        poll(lambda: c.get(f"/v1/messages/{last}"), lambda m: m.status_code == 200 and m.json()["status"] in ("sent", "delivered", "read"))
        assert c.post("/v1/messages/bulk", json={**body, "recipients": []}).status_code == 422
        assert c.post("/v1/messages/bulk", json={**body, "recipients": [{"to": "+4915180000007"}] * 10_001}).status_code in (413, 422)


def test_a_broadcast_list_is_sent_in_chunks_and_tracked_like_a_campaign(platform):
    with api(platform) as c:
        sender = senders(c, 1)[0]
        created = c.post("/v1/broadcast-lists", json={"name": "VIP"})
        assert created.status_code == 201, created.text
        lid = created.json()["id"]
        rows = "phone,name,tier\n" + "".join(f"+49151900{i:04d}7,V{i},gold\n" for i in range(30))
        added = c.post(f"/v1/broadcast-lists/{lid}/contacts", content=rows.encode(), headers={"Content-Type": "text/csv"})
        assert added.status_code == 200 and added.json()["accepted"] == 30, added.text
        assert c.get(f"/v1/broadcast-lists/{lid}").json()["contacts"] == 30
        lacking = c.post(f"/v1/broadcast-lists/{lid}/send", json={"sender_ids": [sender], "text": "Hi {{city}}"})
        assert lacking.status_code == 422 and "city" in lacking.text
        sent = c.post(f"/v1/broadcast-lists/{lid}/send", json={
            "sender_ids": [sender], "text": "Hi {{name}}, {{tier}} offer", "chunk_size": 10, "chunk_pause_ms": 1500})
        assert sent.status_code == 201, sent.text
        camp = sent.json()
        assert camp["status"] == "running" and camp["stats"]["total"] == 30 and camp["name"] == "VIP (broadcast)"
        time.sleep(1.0)  # the first chunk of 10 went; the next waits for the pause
        first = c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]
        assert first["sent"] + first["queued"] == 10, first
        done = poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json(), lambda x: x["status"] == "completed", timeout=30)
        assert done["stats"]["sent"] == 30
        again = c.post(f"/v1/broadcast-lists/{lid}/send", json={"sender_ids": [sender], "text": "Again"})
        assert again.status_code == 201 and again.json()["id"] != camp["id"]  # the list is reusable
        assert c.delete(f"/v1/broadcast-lists/{lid}").status_code == 204
        assert c.get(f"/v1/broadcast-lists/{lid}").status_code == 404


def test_cancel_also_stops_what_the_session_pool_already_holds(platform):
    with api(platform) as c:
        sender = c.post("/v1/senders", json={"name": "held", "provider": "simulator", "quotas": {"per_minute": 20}}).json()["id"]
        camp = campaign(c, [sender])
        add_contacts(c, camp["id"], "950", 100)
        c.post(f"/v1/campaigns/{camp['id']}/start")
        # 20 go at once (the minute's quota); about a minute's worth more waits in the session-pool
        poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json()["stats"],
             lambda s: s["sent"] == 20 and s["queued"] >= 10)
        cancelled = c.post(f"/v1/campaigns/{camp['id']}/cancel")
        assert cancelled.status_code == 200
        held = cancelled.json()["stats"]  # as the cancel left it: no batch is taken after it
        after = poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json()["stats"],
                     lambda s: s["queued"] == 0, timeout=10)
        assert after["cancelled"] == held["queued"] + held["cancelled"] >= 10
        assert after["sent"] == 20 and after["pending"] == held["pending"]


def test_a_campaign_is_deleted_only_when_not_sending(platform):
    with api(platform) as c:
        ids = senders(c, 1)
        camp = campaign(c, ids, delay_ms={"min": 200, "max": 300})
        add_contacts(c, camp["id"], "500", 50)
        assert c.get(f"/v1/campaigns/{camp['id']}/stats").json()["pending"] == 50
        c.post(f"/v1/campaigns/{camp['id']}/start")
        refused = c.delete(f"/v1/campaigns/{camp['id']}")
        assert refused.status_code == 409 and "cancel" in refused.json()["error"]["message"]
        assert c.post(f"/v1/campaigns/{camp['id']}/cancel").json()["status"] == "cancelled"
        assert c.delete(f"/v1/campaigns/{camp['id']}").status_code == 204
        assert c.get(f"/v1/campaigns/{camp['id']}").status_code == 404
        assert c.get(f"/v1/campaigns/{camp['id']}/stats").status_code == 404
        assert c.delete(f"/v1/campaigns/{camp['id']}").status_code == 404
        listed = [x["id"] for x in c.get("/v1/campaigns", params={"limit": 200}).json()["items"]]
        assert camp["id"] not in listed
        draft = campaign(c, ids)
        assert c.delete(f"/v1/campaigns/{draft['id']}").status_code == 204
