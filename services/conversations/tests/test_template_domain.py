"""Templates in memory: Meta's rules for a definition, a send's variables and its rendered text, and the
aggregate's history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard_contracts.content import Template
from switchboard_conversations.domain.template import MessageTemplate, NotNow, ReadOnly
from switchboard_conversations.domain.template_rules import check_definition
from switchboard_contracts.template_send import SendMismatch, prepare
from switchboard_conversations.template_events import template_cloudevent

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ADMIN = {"type": "user", "id": "u1"}
SHIPPED = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.", "example": {"body_text": [["Ana", "A-1"]]}},
    {"type": "FOOTER", "text": "Acme Shop"},
    {"type": "BUTTONS", "buttons": [
        {"type": "URL", "text": "Track", "url": "https://acme.example/t/{{1}}", "example": ["https://acme.example/t/A-1"]},
        {"type": "QUICK_REPLY", "text": "Stop"}]},
]
NAMED = [{"type": "BODY", "text": "Hi {{customer_name}}, order {{order_id}} is on its way.", "example": {
    "body_text_named_params": [{"param_name": "customer_name", "example": "Ana"},
                               {"param_name": "order_id", "example": "A-1"}]}}]


def fields(*args) -> list[str]:
    return [f for f, _ in check_definition(*args).items]


def test_a_valid_template_has_no_problems():
    assert fields("order_shipped", "en_US", "UTILITY", "POSITIONAL", SHIPPED) == []
    assert fields("order_shipped", "ro", "UTILITY", "NAMED", NAMED) == []
    auth = [{"type": "BODY", "add_security_recommendation": True}, {"type": "FOOTER", "code_expiration_minutes": 5},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]
    assert fields("login_code", "en", "AUTHENTICATION", "POSITIONAL", auth) == []


@pytest.mark.parametrize(("change", "field"), [
    (lambda t: t.update(name="Order-Shipped"), "name"),
    (lambda t: t.update(language="xx_YY"), "language"),
    (lambda t: t["components"][1].pop("example"), "components[1].example.body_text"),
    (lambda t: t["components"][1].update(text="Hi {{2}} and {{1}} ok"), "components[1].text"),
    (lambda t: t["components"][1].update(text="{{1}} shipped {{2}} today"), "components[1].text"),
    (lambda t: t["components"][2].update(text="Reply {{1}}"), "components[2].text"),
    (lambda t: t["components"][0].update(text="x" * 61), "components[0].text"),
    (lambda t: t["components"][3]["buttons"].extend([dict(t["components"][3]["buttons"][0])] * 2),
     "components[3].buttons"),
    (lambda t: t["components"][3]["buttons"][0].update(url="https://acme.example/{{1}}/x"),
     "components[3].buttons[0].url"),
    (lambda t: t["components"].reverse(), "components[1].type"),
    (lambda t: t.update(category="AUTHENTICATION"), "components"),
])
def test_what_meta_would_refuse_is_named(change, field):
    import copy
    t = {"name": "order_shipped", "language": "en_US", "category": "UTILITY", "components": copy.deepcopy(SHIPPED)}
    change(t)
    found = fields(t["name"], t["language"], t["category"], "POSITIONAL", t["components"])
    assert field in found, found


def test_a_named_template_takes_no_numbers_and_a_positional_no_names():
    assert "components[0].text" in fields("x", "en", "UTILITY", "POSITIONAL", NAMED)
    assert "components[1].text" in fields("x", "en", "UTILITY", "NAMED", SHIPPED)


def test_a_send_by_shorthand_fills_every_variable_and_renders_what_the_customer_reads():
    send = Template(name="order_shipped", language="en_US",
                    parameters={"header.1": "A-7", "1": "Ana", "2": "A-7", "button.0": "A-7"})
    prepared = prepare(send, SHIPPED, "POSITIONAL")
    assert prepared.rendered == ("Order A-7\n\nHi Ana, your order A-7 has shipped.\n\nAcme Shop\n\n"
                                 "[Track: https://acme.example/t/A-7]\n[Stop]")
    kinds = [(c.type, c.index, [p.text for p in c.parameters]) for c in prepared.template.components]
    assert kinds == [("header", None, ["A-7"]), ("body", None, ["Ana", "A-7"]), ("button", 0, ["A-7"])]
    assert prepared.template.parameters is None


def test_a_send_by_components_or_by_name_is_checked_the_same_way():
    by_components = Template.model_validate({"name": "n", "language": "ro", "components": [
        {"type": "body", "parameters": [{"type": "text", "parameter_name": "customer_name", "text": "Ana"},
                                        {"type": "text", "parameter_name": "order_id", "text": "A-1"}]}]})
    assert prepare(by_components, NAMED, "NAMED").rendered == "Hi Ana, order A-1 is on its way."
    by_name = prepare(Template(name="n", language="ro", parameters={"customer_name": "Ana", "order_id": "A-1"}),
                      NAMED, "NAMED")
    assert [p.parameter_name for p in by_name.template.components[0].parameters] == ["customer_name", "order_id"]


def test_missing_and_extra_variables_are_listed():
    with pytest.raises(SendMismatch) as caught:
        prepare(Template(name="n", language="ro", parameters={"customer_name": "Ana", "coupon": "X"}), NAMED, "NAMED")
    assert caught.value.missing == ["order_id"] and caught.value.extra == ["coupon"]
    with pytest.raises(SendMismatch) as caught:
        prepare(Template(name="n", language="en_US", parameters=["Ana"]), SHIPPED, "POSITIONAL")
    assert caught.value.missing == ["header.1", "2", "button.0"]


def _template(**overrides) -> MessageTemplate:
    values = {"org_id": "o1", "sender_id": "s1", "waba_id": "w1", "name": "order_shipped", "language": "en_US",
              "category": "UTILITY", "parameter_format": "POSITIONAL", "components": SHIPPED, "status": "DRAFT",
              "read_only": False, "meta_template_id": None, "actor": ADMIN, "at": AT}
    return MessageTemplate(**{**values, **overrides})


def test_the_aggregate_keeps_the_whole_history_and_publishes_what_is_news():
    t = _template()
    t.check_submit()
    t.submitted("1234", "PENDING", "UTILITY", ADMIN, AT)
    with pytest.raises(NotNow):
        t.edit(None, NAMED, ADMIN, AT)  # Meta is reviewing it
    t.meta_status("APPROVED", "webhook", AT)
    t.meta_status("APPROVED", "sync", AT)  # nothing new
    t.meta_status("PAUSED", "sync", AT, "low quality")
    assert t.edit("MARKETING", None, ADMIN, AT) and t.status == "PENDING"
    events = t.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "Submitted", "StatusChanged", "StatusChanged", "Edited"]
    published = [template_cloudevent(e) for e in events]
    assert published[2] is None  # webhook-ingest published Meta's own report
    assert [p.type.split(".")[2] for p in published if p] == ["created", "submitted", "status_changed", "edited"]


def test_a_template_made_at_meta_is_read_only_and_keeps_its_id_on_every_sync():
    made = _template(read_only=True, meta_template_id="999", status="APPROVED")
    assert made.id == _template(read_only=True, meta_template_id="999", status="APPROVED").id
    with pytest.raises(ReadOnly):
        made.edit(None, NAMED, ADMIN, AT)
    with pytest.raises(ReadOnly):
        made.check_submit()
    assert template_cloudevent(made.collect_events()[0]).type.split(".")[2] == "imported"
