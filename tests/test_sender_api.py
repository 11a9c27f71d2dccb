"""Managing senders through the API, end to end as `make run` runs it, with simulator senders told to
misbehave: labels and changes, removal, reconnection with backoff, QR pairing, provider errors, stats."""

from __future__ import annotations

import time

from .e2e_platform import api, poll


def sim(c, name: str, **extra) -> dict:
    created = c.post("/v1/senders", json={"name": name, "provider": "simulator", **extra})
    assert created.status_code == 201, created.text
    return created.json()


def test_labels_changes_and_removal(platform):
    with api(platform) as c:
        a = sim(c, "a", labels=["eu", "support"])
        b = sim(c, "b", labels=["eu"])
        assert a["labels"] == ["eu", "support"]
        eu = {s["id"] for s in c.get("/v1/senders", params={"label": "eu"}).json()["items"]}
        assert {a["id"], b["id"]} <= eu
        assert a["id"] in {s["id"] for s in c.get("/v1/senders", params={"label": "support"}).json()["items"]}
        assert b["id"] not in {s["id"] for s in c.get("/v1/senders", params={"label": "support"}).json()["items"]}

        changed = c.patch(f"/v1/senders/{b['id']}", json={"name": "b2", "labels": ["us"],
                                                          "quotas": {"per_minute": 5}})
        assert changed.status_code == 200, changed.text
        assert changed.json()["name"] == "b2" and changed.json()["labels"] == ["us"]
        assert changed.json()["quotas"]["per_minute"] == 5
        for bad, field in (({}, "name"), ({"quotas": {"per_minute": 0}}, "per_minute"),
                           ({"labels": ["has space"]}, "labels"), ({"provider": "waha"}, "provider")):
            r = c.patch(f"/v1/senders/{b['id']}", json=bad)
            assert r.status_code == 422 and field in r.text, (bad, r.text)

        assert c.delete(f"/v1/senders/{a['id']}").status_code == 204
        assert c.get(f"/v1/senders/{a['id']}").status_code == 404
        assert a["id"] not in {s["id"] for s in c.get("/v1/senders").json()["items"]}
        assert c.post("/v1/messages", json={"sender_id": a["id"], "to": "+4915112345001", "text": "x"}).status_code == 404
        assert c.delete(f"/v1/senders/{a['id']}").status_code == 404
        assert c.patch("/v1/senders/00000000-0000-0000-0000-000000000000", json={"name": "x"}).status_code == 404


def test_a_dropped_connection_comes_back_with_backoff(platform):
    with api(platform) as c:
        s = sim(c, "flaky")
        r = c.post(f"/v1/senders/{s['id']}/simulate", json={"disconnect": True, "refuse_reconnects": 2})
        assert r.status_code == 202, r.text
        seen = poll(lambda: c.get(f"/v1/senders/{s['id']}").json(),
                    lambda x: x["status"] == "disconnected" and x["retry_in_seconds"], timeout=20)
        assert seen["status_reason"] == "simulated connection failure"
        back = poll(lambda: c.get(f"/v1/senders/{s['id']}").json(), lambda x: x["status"] == "connected", timeout=30)
        assert back["retry_in_seconds"] is None
        # messages sent while it was away went once it was back
        mid = c.post("/v1/messages", json={"sender_id": s["id"], "to": "+4915112345002", "text": "back"}).json()["id"]
        poll(lambda: c.get(f"/v1/messages/{mid}"), lambda r: r.status_code == 200 and r.json()["status"] in ("sent", "delivered", "read"))
        assert c.post(f"/v1/senders/{s['id']}/connect").status_code == 202


def test_qr_pairing(platform):
    with api(platform) as c:
        s = sim(c, "paired")
        assert c.get(f"/v1/senders/{s['id']}/qr").status_code == 404  # connected: nothing to scan
        c.post(f"/v1/senders/{s['id']}/simulate", json={"issue_qr": True})
        poll(lambda: c.get(f"/v1/senders/{s['id']}").json(), lambda x: x["status"] == "qr_issued")
        qr = c.get(f"/v1/senders/{s['id']}/qr")
        assert qr.status_code == 200 and qr.json()["qr"].startswith("2@")
        png = c.get(f"/v1/senders/{s['id']}/qr", headers={"Accept": "image/png"})
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG")
        code = c.post(f"/v1/senders/{s['id']}/pairing-code", json={"phone_number": "+4915112345003"})
        assert code.status_code == 200 and len(code.json()["code"]) == 9
        assert c.post(f"/v1/senders/{s['id']}/pairing-code", json={"phone_number": "12"}).status_code == 422
        c.post(f"/v1/senders/{s['id']}/simulate", json={"scan_qr": True})
        poll(lambda: c.get(f"/v1/senders/{s['id']}").json(), lambda x: x["status"] == "connected")
        assert c.get(f"/v1/senders/{s['id']}/qr").status_code == 404


def test_provider_errors_fail_or_pause_and_stats_count_them(platform):
    with api(platform) as c:
        s = sim(c, "erratic", quotas={"per_minute": 50})
        c.post(f"/v1/senders/{s['id']}/simulate", json={"error_codes": [131026]})
        time.sleep(0.3)
        failed = c.post("/v1/messages", json={"sender_id": s["id"], "to": "+4915112345004", "text": "x"}).json()["id"]
        got = poll(lambda: c.get(f"/v1/messages/{failed}"), lambda r: r.status_code == 200 and r.json()["status"] == "failed").json()
        assert got["error"]["code"] == 131026

        c.post(f"/v1/senders/{s['id']}/simulate", json={"error_codes": [131048]})
        time.sleep(0.3)
        held = c.post("/v1/messages", json={"sender_id": s["id"], "to": "+4915112345005", "text": "y"}).json()["id"]
        paused = poll(lambda: c.get(f"/v1/senders/{s['id']}").json(), lambda x: x["status"] == "paused")
        assert paused["paused"]["automatic"] is True and "131048" in paused["status_reason"]
        assert c.get(f"/v1/messages/{held}").json()["status"] == "queued"
        c.post(f"/v1/senders/{s['id']}/resume")
        poll(lambda: c.get(f"/v1/messages/{held}"), lambda r: r.json()["status"] in ("sent", "delivered", "read"))

        stats = c.get(f"/v1/senders/{s['id']}/stats")
        assert stats.status_code == 200, stats.text
        body = stats.json()
        assert body["sent"] == 1 and body["failed"] == 1
        assert body["quota"]["per_minute"]["limit"] == 50 and body["quota"]["per_minute"]["used"] >= 2
        assert 0 <= body["health"]["score"] <= 100
        assert c.get("/v1/senders/00000000-0000-0000-0000-000000000000/stats").status_code == 404


def test_simulating_needs_a_simulator_sender(platform):
    with api(platform) as c:
        s = sim(c, "strict")
        assert c.post(f"/v1/senders/{s['id']}/simulate", json={"latency_ms": -1}).status_code == 422
        assert c.post(f"/v1/senders/{s['id']}/simulate", json={"issue_qr": True, "scan_qr": True}).status_code == 422
        assert c.post("/v1/senders", json={"name": "x", "provider": "telegram"}).status_code == 422
        assert c.post("/v1/senders", json={"name": "x", "provider": "simulator",
                                           "quotas": {"per_day": -5}}).status_code == 422


def test_a_slow_or_dropped_sender_never_delays_another(platform):
    with api(platform) as c:
        slow, dropped, healthy = sim(c, "slow"), sim(c, "dropped"), sim(c, "healthy")
        c.post(f"/v1/senders/{slow['id']}/simulate", json={"latency_ms": 6000})
        c.post(f"/v1/senders/{dropped['id']}/simulate", json={"disconnect": True, "refuse_reconnects": 50})
        poll(lambda: c.get(f"/v1/senders/{dropped['id']}").json(), lambda x: x["status"] == "disconnected")
        time.sleep(1.2)  # every replica has seen the latency (refreshed each second)
        held = [c.post("/v1/messages", json={"sender_id": s["id"], "to": f"+49151123450{i}1", "text": "x"}).json()["id"]
                for i, s in enumerate((slow, dropped))]
        quick = c.post("/v1/messages", json={"sender_id": healthy["id"], "to": "+4915112345099", "text": "y"}).json()["id"]
        poll(lambda: c.get(f"/v1/messages/{quick}"), lambda r: r.status_code == 200 and r.json()["status"] in ("sent", "delivered", "read"))
        # meanwhile the slow one is still in its provider call (6 s; not yet recorded), the dropped one
        # waits, queued: an order, not a time limit
        assert c.get(f"/v1/messages/{held[0]}").json().get("status") in (None, "queued")
        assert c.get(f"/v1/messages/{held[1]}").json()["status"] == "queued"
        poll(lambda: c.get(f"/v1/messages/{held[0]}"), lambda r: r.json().get("status") in ("sent", "delivered", "read"))
