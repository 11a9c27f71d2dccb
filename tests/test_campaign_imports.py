"""Contact imports end to end: a CSV upload's progress can be followed while it streams in, and a
campaign that is running goes on sending while more contacts are uploaded into it (the upload, all or
nothing, commits only at its end)."""

from __future__ import annotations

import threading
import time

import httpx

from .e2e_platform import api, poll
from .test_campaigns import senders

ROWS = 4000
ROWS_PER_CHUNK = 100
CHUNK_EVERY = 0.15  # seconds: the upload takes about 6 s


def _csv(wait: float):
    yield b"phone,name\n"
    for start in range(0, ROWS, ROWS_PER_CHUNK):
        yield "".join(f"+49152410{i:04d}7,N{i}\n" for i in range(start, start + ROWS_PER_CHUNK)).encode()
        time.sleep(wait)


SIZE = sum(len(chunk) for chunk in _csv(0))


def test_an_upload_shows_its_progress_and_a_running_campaign_keeps_sending(platform):
    with api(platform) as c:
        ids = senders(c, 2)
        camp = c.post("/v1/campaigns", json={"name": "growing", "sender_ids": ids, "text": "Hi {{name|there}}",
                                             "delay_ms": {"min": 40, "max": 60}}).json()
        first = [{"phone": f"+49152400{i:04d}7"} for i in range(2000)]
        assert c.post(f"/v1/campaigns/{camp['id']}/contacts", json={"contacts": first}).json()["accepted"] == 2000
        assert c.post(f"/v1/campaigns/{camp['id']}/start").json()["status"] == "running"
        poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json(), lambda x: x["stats"]["sent"] >= 5)

        answer: dict = {}

        def upload() -> None:
            with httpx.Client(base_url=platform["base"], headers={"X-API-Key": platform["key"]}, timeout=60) as u:
                r = u.post(f"/v1/campaigns/{camp['id']}/contacts", content=_csv(CHUNK_EVERY),
                           headers={"Content-Type": "text/csv", "Content-Length": str(SIZE)})
                answer.update(status=r.status_code, body=r.json())

        uploading = threading.Thread(target=upload)
        uploading.start()
        try:
            running = poll(lambda: c.get(f"/v1/campaigns/{camp['id']}/imports").json()["items"],
                           lambda items: items and items[0]["status"] == "importing" and items[0]["rows_read"] > 0)
            progress = running[0]
            assert progress["bytes_total"] == SIZE and 0 < progress["percent"] < 100
            assert progress["content_type"] == "text/csv"
            # sending goes on while the upload holds its transaction open
            before = c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]["sent"]
            poll(lambda: c.get(f"/v1/campaigns/{camp['id']}").json()["stats"]["sent"], lambda n: n >= before + 15)
            later = c.get(f"/v1/campaigns/{camp['id']}/imports").json()["items"][0]
            assert later["id"] == progress["id"] and later["status"] == "importing", later
            assert later["rows_read"] >= progress["rows_read"]
        finally:
            uploading.join(timeout=60)
        assert answer["status"] == 200, answer
        assert answer["body"]["accepted"] == ROWS and answer["body"]["import_id"] == progress["id"]
        shown = c.get(f"/v1/campaigns/{camp['id']}").json()
        assert shown["stats"]["total"] == 2000 + ROWS
        last = shown["last_import"]
        assert last["id"] == progress["id"] and last["status"] == "done" and last["percent"] == 100.0
        assert last["rows_read"] == ROWS and last["accepted"] == ROWS and last["finished_at"]
        assert c.post(f"/v1/campaigns/{camp['id']}/cancel").json()["status"] == "cancelled"


def test_a_failed_upload_is_recorded_and_keeps_nothing(platform):
    with api(platform) as c:
        lst = c.post("/v1/broadcast-lists", json={"name": "imports"}).json()
        body = "phone,name\n" + "".join(f"+49152420{i:04d}7,A{i}\n" for i in range(50)) + "+491524299999,\xff\n"
        bad = c.post(f"/v1/broadcast-lists/{lst['id']}/contacts", content=body.encode("latin-1"),
                     headers={"Content-Type": "text/csv"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_upload"
        items = c.get(f"/v1/broadcast-lists/{lst['id']}/imports").json()["items"]
        assert len(items) == 1 and items[0]["status"] == "failed" and items[0]["id"] == \
            bad.json()["error"]["details"]["import_id"]
        assert "UTF-8" in items[0]["error"] or "encoding" in items[0]["error"], items[0]
        assert c.get(f"/v1/broadcast-lists/{lst['id']}").json()["contacts"] == 0
        other = c.get("/v1/broadcast-lists/00000000-0000-0000-0000-000000000000/imports")
        assert other.status_code == 404


def test_a_slow_upload_shows_progress_before_its_first_full_batch(platform):
    """A trickle of rows (far fewer than a stored batch of 1,000) still moves the import's figures and
    its `updated_at`, so it neither looks stuck nor reads as interrupted."""
    def trickle():
        yield b"phone,name\n"
        for i in range(8):
            yield f"+49152430{i:04d}7,T{i}\n".encode()
            time.sleep(0.5)

    with api(platform) as c:
        lst = c.post("/v1/broadcast-lists", json={"name": "trickle"}).json()
        answer: dict = {}

        def upload() -> None:
            with httpx.Client(base_url=platform["base"], headers={"X-API-Key": platform["key"]}, timeout=60) as u:
                r = u.post(f"/v1/broadcast-lists/{lst['id']}/contacts", content=trickle(),
                           headers={"Content-Type": "text/csv"})
                answer.update(status=r.status_code, body=r.json())

        uploading = threading.Thread(target=upload)
        uploading.start()
        try:
            imports = f"/v1/broadcast-lists/{lst['id']}/imports"
            first = poll(lambda: c.get(imports).json()["items"],
                         lambda items: items and items[0]["status"] == "importing" and items[0]["rows_read"] >= 1)
            later = poll(lambda: c.get(imports).json()["items"],
                         lambda items: items[0]["rows_read"] > first[0]["rows_read"])
            assert later[0]["status"] in ("importing", "done") and later[0]["updated_at"] > first[0]["updated_at"]
        finally:
            uploading.join(timeout=60)
        assert answer["status"] == 200 and answer["body"]["accepted"] == 8, answer
