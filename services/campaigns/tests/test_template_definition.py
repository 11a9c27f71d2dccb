"""A campaign's template against the template's definition (pure): the campaign's check (its placeholders
standing for a sample) lists the missing and extra variables; per contact the personalized template becomes
Meta's components and the text the customer reads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from switchboard_campaigns.content import CampaignContent
from switchboard_campaigns.domain.personalize import TemplateContent
from switchboard_campaigns.domain.template_definition import (
    SAMPLE, Definition, TemplateRefusal, check_all, shorthand_unknown,
)
from switchboard_contracts.content import Template
from switchboard_contracts.template_send import SendMismatch

SHIPPED = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Ana", "A-1"]]}},
    {"type": "FOOTER", "text": "Acme Shop"},
    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://acme.example/t/{{1}}",
                                     "example": ["https://acme.example/t/A-1"]}]},
]
DEFINITION = Definition("102290129340398", "order_shipped", "en_US", "POSITIONAL", SHIPPED, "tpl-1")
BY_SLOT = {"header.1": "{{code}}", "1": "{{name|there}}", "2": "{{code}}", "button.0": "{{code}}"}


def content(template: dict) -> CampaignContent:
    return CampaignContent.from_spec({"content": {"type": "template", "template": {
        "name": "order_shipped", "language": "en_US", **template}}, "senders": {"sender_ids": ["s1"]}})


def check(template: dict, definitions=(DEFINITION,)) -> None:
    check_all(TemplateContent.parse({"name": "order_shipped", "language": "en_US", **template}).sample(SAMPLE),
              definitions)


def test_a_contacts_shorthand_template_goes_as_metas_components_with_the_text_it_reads():
    out = content({"parameters": BY_SLOT}).render("+4915112345678", None, {"code": "A-7"}, DEFINITION)
    assert out["type"] == "template"
    assert out["rendered"] == ("Order A-7\n\nHi there, your order A-7 is on its way.\n\nAcme Shop\n\n"
                               "[Track: https://acme.example/t/A-7]")
    assert isinstance(out["template"], Template) and out["template"].parameters is None
    assert out["template"].model_dump(exclude_none=True)["components"] == [
        {"type": "header", "parameters": [{"type": "text", "text": "A-7"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "there"}, {"type": "text", "text": "A-7"}]},
        {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "A-7"}]}]
    listed = content({"parameters": ["{{name|there}}", "{{code}}"], "components": [
        {"type": "header", "parameters": [{"type": "text", "text": "{{code}}"}]},
        {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "{{code}}"}]}]})
    assert listed.render("+1", "Ana", {"code": "B-2"}, DEFINITION)["rendered"].startswith(
        "Order B-2\n\nHi Ana, your order B-2 is on its way.")


def test_without_a_definition_the_template_goes_as_given():
    out = content({"parameters": BY_SLOT}).render("+1", "Ana", {"code": "A-7"})
    assert out == {"type": "template", "template": {"name": "order_shipped", "language": "en_US", "parameters": {
        "header.1": "A-7", "1": "Ana", "2": "A-7", "button.0": "A-7"}}}


def test_the_campaigns_check_lists_the_missing_and_extra_variables():
    check({"parameters": BY_SLOT})
    check({"components": [{"type": "header", "parameters": [{"type": "text", "text": "{{code}}"}]},
                          {"type": "body", "parameters": [{"type": "text", "text": "{{name}}"},
                                                          {"type": "text", "text": "A-{{code}}"}]},
                          {"type": "button", "sub_type": "url", "index": 0,
                           "parameters": [{"type": "text", "text": "{{code}}"}]}]})
    with pytest.raises(TemplateRefusal) as caught:
        check({"parameters": ["{{name}}", "{{code}}", "{{city}}"]})
    assert caught.value.code == "template_parameters"
    assert caught.value.details() == {"field": "template.parameters", "missing": ["header.1", "button.0"],
                                      "extra": ["3"], "waba_id": "102290129340398", "template_id": "tpl-1"}
    assert "missing header.1, button.0; extra 3" in str(caught.value)
    with pytest.raises(TemplateRefusal) as caught:
        check({"components": [{"type": "body", "parameters": [{"type": "text", "text": "{{name}}"}]}]})
    assert caught.value.details()["missing"] == ["header.1", "2", "button.0"]
    # every account whose definition is known: the second one's differs
    other = Definition("999000111222333", "order_shipped", "en_US", "POSITIONAL",
                       [{"type": "BODY", "text": "Hi {{1}}"}])
    with pytest.raises(TemplateRefusal) as caught:
        check({"parameters": BY_SLOT}, (DEFINITION, other))
    assert caught.value.details()["waba_id"] == "999000111222333"
    assert caught.value.details()["extra"] == ["2", "button.0", "header.1"]


def test_named_variables_are_checked_by_name():
    named = Definition("w", "order_shipped", "en_US", "NAMED",
                       [{"type": "BODY", "text": "Hi {{first_name}}, order {{order_id}}"}])
    check({"parameters": {"first_name": "{{name|there}}", "order_id": "{{code}}"}}, (named,))
    with pytest.raises(TemplateRefusal) as caught:
        check({"parameters": {"first_name": "{{name}}", "order": "{{code}}"}}, (named,))
    assert (caught.value.details()["missing"], caught.value.details()["extra"]) == (["order_id"], ["order"])
    out = content({"parameters": {"first_name": "{{name|there}}", "order_id": "{{code}}"}}).render(
        "+1", None, {"code": "9"}, named)
    assert out["rendered"] == "Hi there, order 9"
    assert out["template"].components[0].parameters[0].parameter_name == "first_name"


def test_a_value_is_judged_by_what_a_contact_could_send_not_by_its_placeholder():
    # a placeholder with a long default stands for a short value; a literal over Meta's 60 characters does not
    check({"parameters": {**BY_SLOT, "header.1": "{{code|a default that is much longer than sixty characters, surely}}"}})
    with pytest.raises(TemplateRefusal) as caught:
        check({"parameters": {**BY_SLOT, "header.1": "x" * 61}})
    assert caught.value.code == "validation_error" and "60 characters" in str(caught.value)


def test_a_contact_whose_values_cannot_go_fails_alone():
    # an empty value (a default of nothing) is no value Meta takes: that contact's message cannot be built
    with pytest.raises(ValidationError):
        content({"parameters": {**BY_SLOT, "2": "{{coupon|}}"}}).render("+1", "Ana", {"code": "A", "coupon": ""},
                                                                       DEFINITION)
    # values that fill another definition's variables (the template was edited): a mismatch
    edited = Definition("w", "order_shipped", "en_US", "POSITIONAL", [{"type": "BODY", "text": "{{1}} {{2}} {{3}}"}])
    with pytest.raises(SendMismatch) as caught:
        content({"parameters": ["{{name}}", "{{code}}"]}).render("+1", "Ana", {"code": "1"}, edited)
    assert caught.value.missing == ["3"]


def test_shorthand_through_accounts_that_do_not_know_the_template():
    refusal = shorthand_unknown("order_shipped", "en_US", ["102290129340398"])
    assert refusal.code == "template_not_found"
    assert refusal.details() == {"field": "template.name", "name": "order_shipped", "language": "en_US",
                                 "waba_id": "102290129340398"}
