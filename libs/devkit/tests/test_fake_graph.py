"""The fake Graph API's template management, over HTTP as a client sees it: Meta's validation and
error bodies, the list's cursor paging with a small `limit`, deletes, edits, injected errors; and the
signed template webhook delivery."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from switchboard_devkit.testing.fake_graph import running_fake_graph
from switchboard_devkit.testing.meta_webhooks import template_quality_delivery, template_status_delivery

AUTH = {"Authorization": "Bearer EAAB-good"}
BODY = {"name": "order_shipped", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your order {{1}} has shipped."}]}


async def test_create_validates_like_meta_and_refuses_a_duplicate():
    async with running_fake_graph() as graph, httpx.AsyncClient(base_url=f"{graph.url}/v23.0") as http:
        url = "/1022/message_templates"
        assert (await http.post(url, json=BODY)).json()["error"]["code"] == 190  # no token
        created = await http.post(url, json=BODY, headers=AUTH)
        assert created.status_code == 200 and created.json()["status"] == "PENDING"
        assert created.json()["id"].isdigit() and created.json()["category"] == "UTILITY"
        duplicate = await http.post(url, json=BODY, headers=AUTH)
        error = duplicate.json()["error"]
        assert duplicate.status_code == 400 and (error["code"], error["error_subcode"]) == (100, 2388024)
        assert error["error_user_title"] == "Content in This Language Already Exists"
        assert error["is_transient"] is False and error["fbtrace_id"]
        assert (await http.post(url, json={**BODY, "language": "de"}, headers=AUTH)).status_code == 200
        for broken, named in (({**BODY, "name": "Order Shipped"}, "name"), ({**BODY, "category": "PROMO"}, "category"),
                              ({k: v for k, v in BODY.items() if k != "language"}, "language"),
                              ({**BODY, "name": "x", "components": [{"type": "FOOTER", "text": "bye"}]}, "components")):
            refused = await http.post(url, json=broken, headers=AUTH)
            assert refused.status_code == 400 and refused.json()["error"]["code"] == 100, broken
            assert named in json.dumps(refused.json()["error"]), broken
        graph.template_errors = [130429, (400, {"error": {"message": "custom", "code": 80008}})]
        assert (await http.post(url, json={**BODY, "name": "a"}, headers=AUTH)).json()["error"]["code"] == 130429
        assert (await http.post(url, json={**BODY, "name": "a"}, headers=AUTH)).json()["error"]["code"] == 80008
        assert (await http.post(url, json={**BODY, "name": "a"}, headers=AUTH)).status_code == 200
    assert [(t["name"], t["language"]) for t in graph.templates("1022")] == [
        ("order_shipped", "en_US"), ("order_shipped", "de"), ("a", "en_US")]
    assert graph.templates("other") == []


async def test_list_pages_with_limit_and_after():
    async with running_fake_graph() as graph, httpx.AsyncClient(headers=AUTH) as http:
        ids = [graph.add_template("1022", f"t_{i}", "en_US", "MARKETING", BODY["components"])["id"] for i in range(5)]
        graph.set_status(ids[1], "PAUSED")
        url, seen, pages = f"{graph.url}/v23.0/1022/message_templates?limit=2&fields=name,status", [], 0
        while url:
            page = (await http.get(url)).json()
            pages += 1
            seen += page["data"]
            assert set(page["paging"]["cursors"]) == {"before", "after"}
            url = page["paging"].get("next")
        assert pages == 3 and [t["id"] for t in seen] == ids
        assert seen[1] == {"id": ids[1], "name": "t_1", "status": "PAUSED"}  # the fields asked for, and the id
        everything = (await http.get(f"{graph.url}/v23.0/1022/message_templates")).json()
        assert "next" not in everything["paging"] and len(everything["data"]) == 5
        assert set(everything["data"][0]) == {"id", "name", "language", "category", "status", "components"}
        assert (await http.get(f"{graph.url}/v23.0/1022/message_templates?after=bogus")).status_code == 400
        assert (await http.get(f"{graph.url}/v23.0/9/message_templates")).json() == {"data": []}


async def test_delete_and_edit():
    async with running_fake_graph() as graph, httpx.AsyncClient(base_url=f"{graph.url}/v23.0", headers=AUTH) as http:
        en = graph.add_template("1022", "hello", "en_US", "UTILITY", BODY["components"])
        de = graph.add_template("1022", "hello", "de", "UTILITY", BODY["components"], status="PENDING")
        assert (await http.post(f"/{de['id']}", json={"components": BODY["components"]})).status_code == 400  # in review
        edited = await http.post(f"/{en['id']}", json={"category": "MARKETING"})
        assert edited.json() == {"success": True}
        assert [(t["category"], t["status"]) for t in graph.templates("1022")][0] == ("MARKETING", "PENDING")
        assert (await http.post("/123", json={})).json()["error"]["error_subcode"] == 33
        one = await http.delete("/1022/message_templates", params={"name": "hello", "hsm_id": de["id"]})
        assert one.json() == {"success": True} and [t["id"] for t in graph.templates("1022")] == [en["id"]]
        assert (await http.delete("/1022/message_templates", params={"name": "hello"})).json() == {"success": True}
        unknown = await http.delete("/1022/message_templates", params={"name": "hello"})
        assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 100
        assert graph.templates("1022") == []


def test_template_deliveries_are_signed_with_the_app_secret():
    body, headers = template_status_delivery("1022", "594425479261596", "order_shipped", "en_US", "REJECTED",
                                             "INVALID_FORMAT", app_secret="shh", time=1767225600)
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(b"shh", body, hashlib.sha256).hexdigest()
    assert json.loads(body) == {"object": "whatsapp_business_account", "entry": [{
        "id": "1022", "time": 1767225600, "changes": [{"field": "message_template_status_update", "value": {
            "event": "REJECTED", "message_template_id": 594425479261596, "message_template_name": "order_shipped",
            "message_template_language": "en_US", "reason": "INVALID_FORMAT"}}]}]}
    body, headers = template_quality_delivery("1022", "7", "order_shipped", "en_US", "RED", "GREEN", app_secret="k")
    change = json.loads(body)["entry"][0]["changes"][0]
    assert change["field"] == "message_template_quality_update" and change["value"]["new_quality_score"] == "RED"
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
