"""Flows through every service as `make run` starts them: a keyword flow asks with reply buttons,
branches on the button the contact taps, looks the order up over HTTP (a local server), answers with
what it found, waits, and e-mails the team (a local SMTP server); an auto-reply outside business
hours answers once per cooldown, and a keyword rule whose hours are not open now stays silent."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from switchboard_devkit.testing.ports import server_ports

from .e2e_platform import api, poll, stream_events

BUTTONS = {"type": "interactive", "interactive": {
    "type": "button", "body": {"text": "Hi {{contact.name|there}}! Track your order?"},
    "action": {"buttons": [{"type": "reply", "reply": {"id": "track", "title": "Track"}},
                           {"type": "reply", "reply": {"id": "later", "title": "Later"}}]}}}


def order_flow(erp: str) -> dict:
    def message(node_id: str, text: str) -> dict:
        return {"id": node_id, "type": "message", "message": {"type": "text", "text": text}}

    return {"name": "order tracking", "trigger": {"type": "keyword", "keywords": ["order"], "match": "contains"},
            "nodes": [{"id": "start", "type": "start"}, {"id": "ask", "type": "message", "message": BUTTONS},
                      {"id": "wait", "type": "wait_for_reply", "timeout_seconds": 600},
                      {"id": "route", "type": "condition",
                       "rules": [{"exit": "track", "if": {"field": "flow.reply_id", "op": "==", "value": "track"}}]},
                      {"id": "lookup", "type": "http", "url": f"{erp}/orders/{{{{contact.phone}}}}"},
                      message("tell", "Your order is {{flow.http.lookup.json.status}}."),
                      {"id": "pause", "type": "delay", "seconds": 1},
                      {"id": "mail", "type": "email", "to": "ops@example.com",
                       "subject": "Order tracked for {{contact.phone}}",
                       "body": "Status: {{flow.http.lookup.json.status}}"},
                      message("bye", "Maybe later."), {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "wait", "exit": "sent"},
                      {"from": "ask", "to": "end", "exit": "failed"}, {"from": "wait", "to": "route", "exit": "reply"},
                      {"from": "wait", "to": "end", "exit": "timeout"},
                      {"from": "route", "to": "lookup", "exit": "track"}, {"from": "route", "to": "bye", "exit": "else"},
                      {"from": "lookup", "to": "tell", "exit": "success"},
                      {"from": "lookup", "to": "end", "exit": "failure"},
                      {"from": "tell", "to": "pause", "exit": "sent"}, {"from": "tell", "to": "end", "exit": "failed"},
                      {"from": "pause", "to": "mail"}, {"from": "mail", "to": "end", "exit": "sent"},
                      {"from": "mail", "to": "end", "exit": "failed"}, {"from": "bye", "to": "end", "exit": "sent"},
                      {"from": "bye", "to": "end", "exit": "failed"}]}


@pytest.fixture
def erp():
    """A local 'ERP' answering GET /orders/<phone> with {"status": "shipped"}; the paths it was asked."""
    asked: list[str] = []

    class Orders(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            asked.append(self.path)
            body = json.dumps({"status": "shipped"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", server_ports(1)[0]), Orders)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


@pytest.fixture
def mailbox(platform):
    """A real SMTP server on the port the platform's flows service sends to; the messages it took."""
    received: list = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            received.append(envelope)
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=platform["smtp_port"])
    controller.start()
    yield received
    controller.stop()


def sent_texts(platform, sender_id: str, to: str) -> list[str]:
    return [e["data"].get("text") for e in stream_events(platform, "sb.evt.*.message.accepted")
            if e["data"]["sender_id"] == sender_id and e["data"]["to"] == to]


def test_a_keyword_flow_with_buttons_http_a_delay_and_an_email(platform, erp, mailbox):
    base, asked = erp
    contact = "+4915112340001"
    with api(platform) as c:
        sender = c.post("/v1/senders", json={"name": "bot", "provider": "simulator"}).json()["id"]
        flow = c.post("/v1/flows", json=order_flow(base))
        assert flow.status_code == 201, flow.text
        flow_id = flow.json()["id"]
        assert c.post(f"/v1/flows/{flow_id}/publish").json() == {"revision": 1}
        assert c.post(f"/v1/flows/{flow_id}/activate").status_code == 200
        inbound = {"from": contact, "text": "Where is my order?", "contact_name": "Ana"}
        assert c.post(f"/v1/senders/{sender}/simulate/inbound", json=inbound).status_code == 202
        poll(lambda: c.get(f"/v1/flows/{flow_id}/executions", params={"status": "waiting"}).json()["items"],
             lambda items: items and items[0]["waiting_for"] == "reply")
        tap = {"from": contact, "text": "Track", "reply_id": "track"}
        assert c.post(f"/v1/senders/{sender}/simulate/inbound", json=tap).status_code == 202
        done = poll(lambda: c.get(f"/v1/flows/{flow_id}/executions", params={"status": "completed"}).json()["items"],
                    lambda items: bool(items), timeout=30)
        view = c.get(f"/v1/executions/{done[0]['id']}").json()
    assert [(s["node"], s["exit"]) for s in view["steps"]] == [
        ("start", None), ("ask", "sent"), ("wait", "reply"), ("route", "track"), ("lookup", "success"),
        ("tell", "sent"), ("pause", None), ("mail", "sent"), ("end", None)]
    assert asked == [f"/orders/%2B{contact[1:]}"]
    assert sent_texts(platform, sender, contact)[-1] == "Your order is shipped."
    [mail] = mailbox
    assert mail.rcpt_tos == ["ops@example.com"] and f"Order tracked for {contact}" in mail.content.decode()


def test_an_auto_reply_outside_business_hours_answers_once_per_cooldown(platform):
    never_open = {"timezone": "Europe/Berlin", "hours": {}}
    with api(platform) as c:
        sender = c.post("/v1/senders", json={"name": "desk", "provider": "simulator"}).json()["id"]
        closed = c.post("/v1/auto-replies", json={
            "sender_ids": [sender], "message": {"type": "text", "text": "We are closed, {{contact.name|friend}}."},
            "delay_ms": 0, "cooldown_seconds": 3600, "business_hours": {**never_open, "mode": "outside"}})
        assert closed.status_code == 201, closed.text
        pricing = c.post("/v1/auto-replies", json={
            "sender_ids": [sender], "message": {"type": "text", "text": "Our prices: …"}, "delay_ms": 0,
            "keywords": {"keywords": ["price"]}, "business_hours": {**never_open, "mode": "inside"}})
        assert pricing.status_code == 201, pricing.text
        for text in ("hello", "anyone?"):
            c.post(f"/v1/senders/{sender}/simulate/inbound", json={"from": "+4915112340002", "text": text,
                                                                  "contact_name": "Bea"})
        c.post(f"/v1/senders/{sender}/simulate/inbound", json={"from": "+4915112340003", "text": "price?"})
        poll(lambda: sent_texts(platform, sender, "+4915112340003"), lambda texts: len(texts) >= 1, timeout=20)
        assert sent_texts(platform, sender, "+4915112340003") == ["We are closed, friend."]  # not the price list
        assert sent_texts(platform, sender, "+4915112340002") == ["We are closed, Bea."]  # once, the cooldown
