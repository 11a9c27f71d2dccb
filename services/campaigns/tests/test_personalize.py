"""Placeholders in campaign text and Meta template parameters: parsing, the variables a contact
must have, rendering with defaults, malformed placeholders and undeclared variables."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard_campaigns.domain.personalize import (
    MissingVariable, TemplateContent, TemplateError, TextTemplate, known_variables_check,
)


def render(text: str, name: str | None = "Ana", **variables: str) -> str:
    return TextTemplate.parse(text).render("+5511999990000", name, variables)


# --- text ----------------------------------------------------------------------------------------

def test_placeholders_render_from_the_contact():
    assert render("Hi {{name}}, {{first_name}} from {{city}}!", first_name="Ana Maria", city="SP") == \
        "Hi Ana, Ana Maria from SP!"
    assert render("call {{ phone }}") == "call +5511999990000"
    assert render("no placeholders } { }}") == "no placeholders } { }}"
    assert render("{{a}}{{b}}", a="1", b="2") == "12"


def test_defaults_fill_missing_and_blank_values():
    assert render("Hi {{name|there}}!", name=None) == "Hi there!"
    assert render("Hi {{name|there}}!", name="  ") == "Hi there!"
    assert render("Hi {{ name | dear friend }}!", name=None) == "Hi dear friend!"
    assert render("Hi {{city|}}!", city="") == "Hi !"
    assert render("{{name|a}b}}", name=None) == "a}b"
    assert render("Hi {{name|there}}!") == "Hi Ana!"
    assert render("{{n}}", n=42) == "42"  # a non-string value from JSON


def test_a_missing_variable_without_a_default_raises_naming_it():
    with pytest.raises(MissingVariable) as caught:
        render("Hi {{name}}, your code is {{code}}", code="7", name=None)
    assert caught.value.key == "name" and "'name'" in str(caught.value)
    with pytest.raises(MissingVariable, match="code"):
        render("your code is {{code}}", code="")


def test_variables_and_required_keys():
    t = TextTemplate.parse("{{name}} {{phone}} {{city|SP}} {{code}} {{code|0}} {{greeting|hi}}")
    assert t.variables == {"name", "phone", "city", "code", "greeting"}
    assert t.required == {"name", "code"}  # phone is always there; code is used once without default
    assert TextTemplate.parse("{{name|there}} {{phone}}").required == set()
    assert t.missing("Ana", {"code": "1"}) == []
    assert t.missing(None, {"code": " "}) == ["code", "name"]


@pytest.mark.parametrize("text, position, words", [
    ("{{ }}", 0, "empty placeholder"),
    ("{{}}", 0, "empty placeholder"),
    ("Hi {{name", 3, "unclosed placeholder {{name"),
    ("Hi {{name|there\n}}", 3, "unclosed"),
    ("line one\nand {{first name}}", 13, "line 2, column 5"),
    ("{{{name}}}", 0, "malformed placeholder"),
    ("{{name|{{x}}}}", 0, "malformed placeholder"),
    ("{{first.name}}", 0, "letters, digits and _"),
    ("ok {{a}} then {{b|", 14, "unclosed"),
])
def test_malformed_placeholders_name_their_position(text, position, words):
    with pytest.raises(TemplateError) as caught:
        TextTemplate.parse(text)
    assert caught.value.position == position
    assert f"position {position}" in str(caught.value) and words in str(caught.value)


placeholder_free = st.text().filter(lambda s: "{{" not in s and not s.endswith("{"))


@given(st.lists(st.tuples(placeholder_free, st.sampled_from(["a", "b", "name"]), st.booleans()), max_size=6),
       placeholder_free, st.dictionaries(st.sampled_from(["a", "b"]), st.text(min_size=1).filter(str.strip)))
def test_rendering_matches_substituting_each_placeholder(pieces, tail, variables):
    text = "".join(f"{lit}{{{{{key}{'|dflt' if has_default else ''}}}}}" for lit, key, has_default in pieces) + tail
    values = {**variables, "name": "Ana"}
    expected = "".join(lit + values.get(key, "dflt") for lit, key, _ in pieces) + tail
    needs = {key for _, key, has_default in pieces if not has_default} - set(values)
    t = TextTemplate.parse(text)
    if needs:
        with pytest.raises(MissingVariable):
            t.render("+1", "Ana", variables)
    else:
        assert t.render("+1", "Ana", variables) == expected


# --- declared variables --------------------------------------------------------------------------

def test_known_variables_check():
    t = TextTemplate.parse("{{name}} {{phone}} {{first_name}} {{city|SP}}")
    known_variables_check(t.variables, ["first_name", "city"])
    known_variables_check(t.variables, None)  # nothing declared: contacts are checked at import
    with pytest.raises(TemplateError, match=re.escape("unknown variable {{city}}; declared: first_name")):
        known_variables_check(t.variables, ["first_name"])
    with pytest.raises(TemplateError, match=re.escape("unknown variables {{city}}, {{first_name}}; declared: none")):
        known_variables_check(t.variables, [])


# --- Meta templates ------------------------------------------------------------------------------

TEMPLATE = {
    "name": "order_update",
    "language": "pt_BR",
    "components": [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example/{{sku}}.jpg"}}]},
        {"type": "body", "parameters": [
            {"type": "text", "text": "{{first_name|friend}}"},
            {"type": "text", "text": "no placeholder"},
            {"type": "currency", "currency": {"fallback_value": "{{total}}", "code": "BRL", "amount_1000": 1000}},
            {"type": "date_time", "date_time": {"fallback_value": "{{when|soon}}"}},
        ]},
        {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "stop-{{phone}}"}]},
        {"type": "button", "sub_type": "url", "index": 1, "parameters": [{"type": "text", "text": "{{ order_id }}"}]},
    ],
}


def test_template_parameters_render_and_the_structure_stays():
    content = TemplateContent.parse(TEMPLATE)
    assert content.variables == {"sku", "first_name", "total", "when", "phone", "order_id"}
    assert content.required == {"sku", "total", "order_id"}
    before = copy.deepcopy(TEMPLATE)
    out = content.render("+5511999990000", None, {"sku": "A1", "total": "R$ 10,00", "order_id": "991"})
    assert TEMPLATE == before
    expected = copy.deepcopy(TEMPLATE)
    expected["components"][0]["parameters"][0]["image"]["link"] = "https://cdn.example/A1.jpg"
    body = expected["components"][1]["parameters"]
    body[0]["text"], body[2]["currency"]["fallback_value"], body[3]["date_time"]["fallback_value"] = \
        "friend", "R$ 10,00", "soon"
    expected["components"][2]["parameters"][0]["payload"] = "stop-+5511999990000"
    expected["components"][3]["parameters"][0]["text"] = "991"
    assert out == expected
    assert content.render("+1", None, {"sku": "B", "total": "1", "order_id": "2"})["components"][3] == \
        {"type": "button", "sub_type": "url", "index": 1, "parameters": [{"type": "text", "text": "2"}]}
    assert content.render("+1", None, {"sku": "A1", "total": "1", "order_id": "2"}) != out
    assert out["components"][1]["parameters"][3]["date_time"] == {"fallback_value": "soon"}


def test_a_template_missing_a_contact_variable():
    content = TemplateContent.parse(TEMPLATE)
    with pytest.raises(MissingVariable) as caught:
        content.render("+1", "Ana", {"sku": "A1", "order_id": "2"})
    assert caught.value.key == "total"
    assert content.missing("Ana", {"sku": "A1"}) == ["order_id", "total"]


def test_a_template_without_placeholders_renders_as_is():
    plain = {"name": "hello_world", "language": "en_US"}
    assert TemplateContent.parse(plain).render("+1", None, {}) == plain
    assert TemplateContent.parse(plain).required == frozenset()


def test_template_errors_name_the_field():
    broken = copy.deepcopy(TEMPLATE)
    broken["components"][1]["parameters"][2]["currency"]["fallback_value"] = "R$ {{ total"
    with pytest.raises(TemplateError) as caught:
        TemplateContent.parse(broken)
    assert str(caught.value).startswith("components[1].parameters[2].currency.fallback_value: position 3")
    assert caught.value.where == "components[1].parameters[2].currency.fallback_value"
    with pytest.raises(TemplateError, match=r"components\[0\]"):
        TemplateContent.parse({"name": "x", "language": "en", "components": [{"type": "body", "parameters": "x"}]})
    with pytest.raises(TemplateError, match="components"):
        TemplateContent.parse({"name": "x", "language": "en", "components": {}})


def test_declared_variables_apply_to_templates_too():
    content = TemplateContent.parse(TEMPLATE)
    with pytest.raises(TemplateError, match=re.escape("unknown variables {{order_id}}, {{sku}}")):
        known_variables_check(content.variables, ["first_name", "total", "when"])


# --- a template's shorthand `parameters` ---------------------------------------------------------

def test_shorthand_parameters_render_per_contact_like_the_components_values():
    by_slot = TemplateContent.parse({"name": "order_shipped", "language": "en_US", "parameters": {
        "header.1": "{{code}}", "1": "{{ name | there }}", "2": "order {{code}}", "button.0": "plain"}})
    assert by_slot.variables == {"code", "name"} and by_slot.required == {"code"}
    assert by_slot.render("+1", None, {"code": "A-7"})["parameters"] == {
        "header.1": "A-7", "1": "there", "2": "order A-7", "button.0": "plain"}
    assert by_slot.render("+1", "Ana", {"code": "B-2"})["parameters"]["1"] == "Ana"
    assert by_slot.template["parameters"]["1"] == "{{ name | there }}"  # the compiled template stays as it is
    assert by_slot.missing(None, {}) == ["code"]
    with pytest.raises(MissingVariable, match="code"):
        by_slot.render("+1", "Ana", {"code": " "})

    in_order = TemplateContent.parse({"name": "x", "language": "en", "parameters": ["{{name|you}}", "7", "{{phone}}"]})
    assert in_order.render("+4915112345678", None, {})["parameters"] == ["you", "7", "+4915112345678"]
    assert in_order.sample("x")["parameters"] == ["x", "7", "x"]


def test_shorthand_placeholders_are_checked_as_the_components_are():
    with pytest.raises(TemplateError) as caught:
        TemplateContent.parse({"name": "x", "language": "en", "parameters": {"header.1": "{{ code"}})
    assert caught.value.where == "parameters.header.1" and caught.value.position == 0
    with pytest.raises(TemplateError, match=r"^parameters\[1\]: position 3"):
        TemplateContent.parse({"name": "x", "language": "en", "parameters": ["ok", "Hi {{first name}}"]})
    content = TemplateContent.parse({"name": "x", "language": "en", "parameters": ["{{name}}", "{{coupon}}"]})
    with pytest.raises(TemplateError, match=re.escape("unknown variable {{coupon}}")):
        known_variables_check(content.variables, ["city"])
