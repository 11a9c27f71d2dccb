"""The shared placeholder syntax: plain keys (lower-cased) and dotted keys (case-sensitive) from one
parser, rendering through a lookup, strict or lenient about missing values, escaping looked-up
values only, and template parameters rendered the same way."""

from __future__ import annotations

import pytest

from switchboard_contracts.placeholders import MissingVariable, Placeholders, TemplateError, TemplateParameters


def test_plain_keys_are_lower_cased_and_take_no_dots():
    assert Placeholders.parse("{{Plan}} {{ city | SP }}").slots == ((1, "plan", None), (3, "city", "SP"))
    with pytest.raises(TemplateError, match="letters, digits and _"):
        Placeholders.parse("{{contact.name}}")


def test_dotted_keys_keep_their_case_and_allow_hyphens_and_indexes():
    parsed = Placeholders.parse("{{contact.name|there}} {{flow.http.node-1.json.Items.0}}", dotted=True)
    assert parsed.variables == {"contact.name", "flow.http.node-1.json.Items.0"}
    for bad in ("{{contact..name}}", "{{.x}}", "{{x.}}", "{{a b}}"):
        with pytest.raises(TemplateError, match="joined by dots") as caught:
            Placeholders.parse(bad, dotted=True)
        assert caught.value.position == 0


def test_render_with_a_lookup_strict_or_not():
    parsed = Placeholders.parse("{{a}}-{{b|B}}-{{c}}", dotted=True)
    values = {"a": 1, "b": "  "}
    with pytest.raises(MissingVariable, match="'c'"):
        parsed.render_with(values.get)
    assert parsed.render_with(values.get, strict=False) == "1-B-"
    assert parsed.render_with({"a": "x y", "c": "&"}.get, escape=lambda v: v.replace(" ", "+").replace("&", "%26")) \
        == "x+y-B-%26"


def test_template_parameters_render_through_the_lookup():
    template = {"name": "t", "language": "en", "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "{{contact.name|friend}}"}, {"type": "text", "text": "plain"}]}]}
    parsed = TemplateParameters.parse(template, dotted=True)
    assert parsed.variables == {"contact.name"}
    out = parsed.render_with({"contact.name": "Ana"}.get)
    assert out["components"][0]["parameters"] == [{"type": "text", "text": "Ana"}, {"type": "text", "text": "plain"}]
    assert parsed.render_with({}.get, strict=False)["components"][0]["parameters"][0]["text"] == "friend"
    assert template["components"][0]["parameters"][0]["text"] == "{{contact.name|friend}}"
