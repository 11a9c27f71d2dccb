"""Placeholders in flows: dotted paths into the execution's context with defaults, missing values
rendered empty, values stringified, and every templated field of a node rendered (message content,
template parameters, media, http url / headers / body, e-mail, set_variable, handoff note)."""

from __future__ import annotations

import pytest

from switchboard_contracts.commands import SendMessage
from switchboard_flows.domain import rendering
from switchboard_flows.domain.context import Context, path_problem, stringify
from switchboard_flows.domain.nodes import EmailNode, HandoffNode, HttpNode, MessageNode, SetVariableNode
from switchboard_flows.domain.rendering import render_text

CONTEXT = {"contact": {"name": "Ana", "phone": "+5511999990000"},
           "flow": {"message": "yes", "reply_id": "btn_1", "data": {"order": {"id": "A-1", "paid": True, "n": 2.5}},
                    "http": {"lookup": {"status": 200, "body": "{\"items\": []}",
                                        "json": {"items": [{"id": 17, "tags": ["x"]}], "Name": "Case"}}}},
           "vars": {"plan": "gold", "blank": " ", "zero": 0}}


@pytest.mark.parametrize("text, expected", [
    ("Hi {{contact.name}} ({{contact.phone}})", "Hi Ana (+5511999990000)"),
    ("{{ flow.message }}/{{flow.reply_id}}", "yes/btn_1"),
    ("order {{flow.data.order.id}}", "order A-1"),
    ("{{flow.data.order.paid}} {{flow.data.order.n}} {{vars.zero}}", "true 2.5 0"),
    ("{{flow.http.lookup.status}}: {{flow.http.lookup.body}}", "200: {\"items\": []}"),
    ("{{flow.http.lookup.json.items.0.id}}", "17"),
    ("{{flow.http.lookup.json.items.0}}", "{\"id\":17,\"tags\":[\"x\"]}"),  # objects as compact JSON
    ("{{flow.http.lookup.json.Name}}|{{flow.http.lookup.json.name|lower}}", "Case|lower"),  # case-sensitive
    ("{{vars.plan|basic}}", "gold"),
    ("{{vars.nope|basic}} {{vars.blank|b}}", "basic b"),  # missing or blank: the default
    ("[{{vars.nope}}] [{{flow.http.other.status}}] [{{flow.data.order.id.x}}]", "[] [] []"),  # no default: empty
    ("{{flow.http.lookup.json.items.9.id|none}}", "none"),
    ("no placeholders } { }}", "no placeholders } { }}"),
])
def test_render_text(text, expected):
    assert render_text(text, CONTEXT) == expected
    assert render_text(text, Context.of(CONTEXT)) == expected


def test_values_are_stringified_for_text():
    assert [stringify(v) for v in (None, "a", True, False, 3, 2.5, [1, "é"], {"a": None})] == \
        [None, "a", "true", "false", "3", "2.5", "[1,\"é\"]", "{\"a\":null}"]


@pytest.mark.parametrize("path, problem", [
    ("contact.name", None), ("contact.phone", None), ("flow.message", None), ("flow.reply_id", None),
    ("flow.data", None), ("flow.data.a.0.b", None), ("vars.x_1", None),
    ("flow.http.lookup.status", None), ("flow.http.lookup.body", None), ("flow.http.lookup.json", None),
    ("flow.http.lookup.json.items.0.id", None),
    ("contact.email", "is not a contact field"), ("vars", "is not a variable"), ("vars.a.b", "is not a variable"),
    ("flow", "is not a flow field"), ("flow.messages", "is not a flow field"),
    ("flow.message.x", "goes past flow.message"), ("flow.http.lookup", "is not an http result"),
    ("flow.http.lookup.headers", "is not an http result"), ("flow.http.other.status", "not an http node"),
    ("flow.http.lookup.status.x", "goes past status"), ("Contact.name", "starts with 'Contact'"),
])
def test_which_paths_a_flow_has(path, problem):
    found = path_problem(path, {"lookup"})
    assert (found is None) if problem is None else (problem in found)


def test_a_message_node_renders_into_a_valid_send():
    node = MessageNode(id="m", message={"type": "text", "text": "Hi {{contact.name|there}}, plan {{vars.plan}}"})
    content = rendering.message_content(node, CONTEXT)
    assert content == {"type": "text", "text": "Hi Ana, plan gold"}
    assert rendering.render_message(node, {}) == {"type": "text", "text": "Hi there, plan "}
    SendMessage(message_id="x", sender_id="s", to="+1", requested_at="2024-01-01T00:00:00Z", **content)
    assert node.message["text"].startswith("Hi {{")  # the node is left as it was


def test_template_parameters_media_and_interactive_texts_render():
    template = {"name": "order", "language": "pt_BR", "components": [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example/{{flow.data.order.id}}.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "{{contact.name|friend}}"},
                                        {"type": "currency", "currency": {"fallback_value": "{{vars.plan}}", "code": "BRL", "amount_1000": 1}}]}]}
    out = rendering.render_message(MessageNode(id="t", message={"type": "template", "template": template}), CONTEXT)
    assert out["template"]["components"][0]["parameters"][0]["image"]["link"] == "https://cdn.example/A-1.jpg"
    assert out["template"]["components"][1]["parameters"][0]["text"] == "Ana"
    assert out["template"]["components"][1]["parameters"][1]["currency"] == {"fallback_value": "gold", "code": "BRL", "amount_1000": 1}
    assert template["components"][1]["parameters"][0]["text"] == "{{contact.name|friend}}"
    media = rendering.render_message(MessageNode(id="i", message={"type": "image", "media": {
        "link": "https://cdn.example/{{vars.plan}}/{{flow.message}}.jpg", "caption": "For {{contact.name}}"}}), CONTEXT)
    assert media == {"type": "image", "media": {"link": "https://cdn.example/gold/yes.jpg", "caption": "For Ana"}}
    interactive = rendering.render_message(MessageNode(id="b", message={"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "{{contact.name}}, pick"}, "footer": {"text": "{{vars.plan}}"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "{{vars.plan}}", "title": "Yes"}}]}}}), CONTEXT)
    assert interactive["interactive"]["body"] == {"text": "Ana, pick"}
    assert interactive["interactive"]["footer"] == {"text": "gold"}
    assert interactive["interactive"]["action"]["buttons"][0]["reply"]["id"] == "{{vars.plan}}"  # ids stay as written


def test_placeholder_values_in_a_media_link_are_percent_encoded():
    context = {"vars": {"sku": "a b/../c?d=1"}}
    node = MessageNode(id="i", message={"type": "image", "media": {"link": "https://cdn.example/{{vars.sku}}.jpg"}})
    assert rendering.render_message(node, context)["media"]["link"] == "https://cdn.example/a%20b%2F..%2Fc%3Fd%3D1.jpg"


def test_an_http_request_renders_url_headers_and_body_leaves():
    node = HttpNode(id="h", method="POST", url="https://api.example/orders/{{flow.data.order.id}}?q={{flow.message}}&x={{vars.nope|-}}",
                    headers={"Authorization": "Bearer {{vars.plan}}", "X-Evil": "{{vars.evil}}"},
                    body={"who": "{{contact.name}}", "items": ["{{flow.http.lookup.json.items.0.id}}", 3, None, True]},
                    timeout_seconds=5, retries=1)
    context = {**CONTEXT, "vars": {**CONTEXT["vars"], "evil": "a\r\nX-Injected: 1"}, "flow": {**CONTEXT["flow"], "message": "a&b=c"}}
    assert rendering.http_request(node, context) == {
        "method": "POST", "url": "https://api.example/orders/A-1?q=a%26b%3Dc&x=-",
        "headers": {"Authorization": "Bearer gold", "X-Evil": "a X-Injected: 1"},
        "body": {"who": "Ana", "items": ["17", 3, None, True]}, "timeout_seconds": 5, "retries": 1}
    assert rendering.render_http(HttpNode(id="g", url="https://x.example"), {})["body"] is None


def test_email_set_variable_and_handoff_render():
    email = EmailNode(id="e", to="{{vars.to}}", subject="Order {{flow.data.order.id}} {{vars.evil}}", body="Hi\n{{contact.name}}")
    assert rendering.email(email, {**CONTEXT, "vars": {"to": " ops@example.com ", "evil": "x\nBcc: y@z"}}) == \
        {"to": "ops@example.com", "subject": "Order A-1 x Bcc: y@z", "body": "Hi\nAna"}
    assign = SetVariableNode(id="s", variables={"greeting": "Hi {{contact.name}}", "plan": "{{vars.plan}}+", "n": "7"})
    assert rendering.variables(assign, CONTEXT) == {"greeting": "Hi Ana", "plan": "gold+", "n": "7"}
    assert rendering.handoff_note(HandoffNode(id="h", note="wants {{vars.plan|?}}"), CONTEXT) == "wants gold"
    assert rendering.handoff_note(HandoffNode(id="h"), CONTEXT) is None
