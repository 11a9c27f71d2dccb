"""A flow's template send, decided without I/O (`domain/template_check.py`) — refused as not found, not
approved or with variables that do not match, prepared with Meta's components and the rendered text, or
sent as given through another provider — and the shorthand `parameters` of a message node: accepted by
the definition's checks, their placeholders checked when saved and rendered when sent."""

from __future__ import annotations

import copy

import pytest

from switchboard_contracts.content import Template
from switchboard_flows.domain import rendering
from switchboard_flows.domain.definition import DefinitionInvalid, parse_definition
from switchboard_flows.domain.nodes import MessageNode
from switchboard_flows.domain.template_check import KnownTemplate, TemplateRefused, check_template_send

from .template_helpers import ORDER_SHIPPED, WABA
from .test_executor import EXAMPLE

APPROVED = KnownTemplate(waba_id=WABA, status="APPROVED", parameter_format="POSITIONAL", components=ORDER_SHIPPED,
                         template_id="t-1")
VALUES = {"header.1": "A-7", "1": "Ana", "2": "A-7", "button.0": "A-7"}


def send(parameters=None, **fields) -> Template:
    return Template(name="order_shipped", language="en_US", parameters=parameters, **fields)


def refusal(template: Template, known: KnownTemplate | None, account: str | None) -> TemplateRefused:
    with pytest.raises(TemplateRefused) as caught:
        check_template_send(template, known, account)
    return caught.value


def test_an_approved_template_is_prepared_with_metas_components_and_the_rendered_text():
    prepared = check_template_send(send(VALUES), APPROVED, WABA)
    assert prepared is not None and prepared.template.parameters is None
    assert [(c.type, [p.text for p in c.parameters]) for c in prepared.template.components] == [
        ("header", ["A-7"]), ("body", ["Ana", "A-7"]), ("button", ["A-7"])]
    assert prepared.rendered == ("Order A-7\n\nHi Ana, your order A-7 is on its way.\n\nAcme Shop\n\n"
                                 "[Track: https://acme.example/t/A-7]")
    by_list = check_template_send(send(["Ana", "A-7"]), KnownTemplate(
        waba_id=WABA, status="APPROVED", components=[ORDER_SHIPPED[1]]), None)  # a list: the body's, in order
    assert by_list is not None and by_list.rendered == "Hi Ana, your order A-7 is on its way."
    flagged = KnownTemplate(waba_id=WABA, status="FLAGGED", components=ORDER_SHIPPED)  # Meta still sends it
    assert check_template_send(send(VALUES), flagged, WABA).rendered == prepared.rendered


@pytest.mark.parametrize("status", ["PENDING", "PAUSED", "REJECTED", "DISABLED", "DELETED", "DRAFT"])
def test_a_template_not_approved_is_refused_with_its_status(status):
    known = KnownTemplate(waba_id=WABA, status=status, components=ORDER_SHIPPED, template_id="t-1")
    for account in (WABA, None):  # a Meta sender's, or the organization's known through another provider
        refused = refusal(send(VALUES), known, account)
        assert refused.code == "template_not_approved"
        assert refused.detail == {"code": "template_not_approved", "status": status, "template_id": "t-1"}
        assert str(refused).startswith(f"template_not_approved: the template 'order_shipped' (en_US) is {status}")


def test_an_unknown_template_is_refused_through_a_meta_sender_and_goes_as_given_through_another():
    given = send(components=[{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}])
    refused = refusal(given, None, WABA)
    assert refused.code == "template_not_found" and f"the account {WABA} has no template" in refused.message
    assert check_template_send(given, None, None) is None  # another provider's, unknown: as given
    # the shorthand needs the definition, whatever the provider; so does a template known only by a report
    assert refusal(send(VALUES), None, None).message.startswith("the organization has no template")
    status_only = KnownTemplate(waba_id=WABA, status="APPROVED")
    assert refusal(send(VALUES), status_only, WABA).code == "template_not_found"


@pytest.mark.parametrize("parameters, missing, extra", [
    ({"1": "Ana", "3": "x"}, ["header.1", "2", "button.0"], ["3"]),
    (["Ana"], ["header.1", "2", "button.0"], []),
    ({**VALUES, "button.1": "x"}, [], ["button.1"]),
])
def test_variables_that_do_not_match_are_refused_naming_the_missing_and_the_extra(parameters, missing, extra):
    refused = refusal(send(parameters), APPROVED, WABA)
    assert refused.detail == {"code": "template_parameters", "missing": missing, "extra": extra, "template_id": "t-1"}


def test_a_value_meta_would_refuse_where_it_goes_is_a_parameters_refusal():
    refused = refusal(send({**VALUES, "header.1": "x" * 61}), APPROVED, WABA)  # a header text: 60 at most
    assert refused.code == "template_parameters" and "template.parameters" in refused.message


def with_template(template: dict) -> dict:
    body = copy.deepcopy(EXAMPLE)
    node = next(n for n in body["nodes"] if n["id"] == "thanks")
    node["message"] = {"type": "template", "template": template}
    return body


def test_a_message_nodes_shorthand_parameters_are_accepted_checked_and_rendered():
    definition = parse_definition(with_template({"name": "order_shipped", "language": "en_US", "parameters": {
        "header.1": "{{flow.data.order_id}}", "1": "{{contact.name|friend}}", "2": "{{flow.data.order_id}}",
        "button.0": "{{vars.order}}"}}))
    context = {"contact": {"name": None, "phone": "+4915112345678"}, "flow": {"data": {"order_id": "A-7"}},
               "vars": {"order": 7}}
    out = rendering.render_message(definition.nodes["thanks"], context)
    assert out["template"]["parameters"] == {"header.1": "A-7", "1": "friend", "2": "A-7", "button.0": "7"}
    assert definition.nodes["thanks"].message["template"]["parameters"]["1"] == "{{contact.name|friend}}"
    listed = MessageNode(id="m", message={"type": "template", "template": {
        "name": "t", "language": "en", "parameters": ["{{contact.phone}}", "plain"]}})
    assert rendering.render_message(listed, context)["template"]["parameters"] == ["+4915112345678", "plain"]


@pytest.mark.parametrize("parameters, where", [
    ({"1": "{{contact.email}}"}, "`message.template.parameters.1`"),
    (["ok", "{{flow.data.x"], "`message.template.parameters[1]`"),
])
def test_placeholders_in_shorthand_parameters_are_checked_when_saved(parameters, where):
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(with_template({"name": "t", "language": "en", "parameters": parameters}))
    assert any(p.node == "thanks" and where in p.message for p in caught.value.problems), caught.value.problems
