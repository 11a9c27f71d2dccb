"""Message content beyond text (switchboard_contracts.content): Meta's shapes and limits, the rule that
`type` names the one content field a send has, and the summaries records show."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from switchboard_contracts.commands import SendMessage
from switchboard_contracts.content import Interactive, Media, Template, summary

BASE = {"message_id": "m1", "sender_id": "s1", "to": "+4915112345678", "requested_at": datetime(2026, 1, 1, tzinfo=UTC)}
TEMPLATE = {"name": "order_update", "language": "en_US", "components": [
    {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/a.png"}}]},
    {"type": "body", "parameters": [
        {"type": "text", "text": "Ada"},
        {"type": "currency", "currency": {"fallback_value": "€12.50", "code": "EUR", "amount_1000": 12500}},
        {"type": "date_time", "date_time": {"fallback_value": "May 1, 2026"}}]},
    {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "STOP"}]},
    {"type": "button", "sub_type": "url", "index": 1, "parameters": [{"type": "text", "text": "order/42"}]}]}
BUTTONS = {"type": "button", "body": {"text": "Keep the appointment?"}, "footer": {"text": "Lucky Shrub"},
           "header": {"type": "image", "image": {"id": "2762702990552401"}},
           "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                                  {"type": "reply", "reply": {"id": "no", "title": "Reschedule"}}]}}
LIST = {"type": "list", "header": {"type": "text", "text": "Shipping"}, "body": {"text": "Which option?"},
        "action": {"button": "Options", "sections": [
            {"title": "Fast", "rows": [{"id": "express", "title": "Express", "description": "Next day"}]},
            {"title": "Cheap", "rows": [{"id": "normal", "title": "Normal"}]}]}}


def errors(model, data) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [(".".join(map(str, e["loc"])), e["msg"]) for e in info.value.errors()]


def fields(model, data) -> set[str]:
    return {loc for loc, _ in errors(model, data)}


# --- SendMessage: type and content ---------------------------------------------------------------

def test_old_text_commands_stay_valid():
    cmd = SendMessage.model_validate({**BASE, "type": "text", "text": "hi"})
    assert (cmd.type, cmd.text, cmd.template, cmd.media, cmd.interactive, cmd.reply_to) == ("text", "hi", None, None, None, None)
    assert SendMessage.model_validate({**BASE, "text": "hi"}).type == "text"


@pytest.mark.parametrize(("type_", "content"), [
    ("template", {"template": TEMPLATE}),
    ("image", {"media": {"link": "https://cdn.example.com/a.jpg", "caption": "Our shop"}}),
    ("video", {"media": {"id": "1166846181421424", "caption": "Tour"}}),
    ("audio", {"media": {"id": "1013859600285441"}}),
    ("document", {"media": {"link": "https://cdn.example.com/i.pdf", "filename": "invoice.pdf", "caption": "Invoice"}}),
    ("sticker", {"media": {"id": "798882015472548"}}),
    ("interactive", {"interactive": BUTTONS}),
    ("interactive", {"interactive": LIST}),
])
def test_every_type_with_its_content_is_valid(type_, content):
    cmd = SendMessage.model_validate({**BASE, "type": type_, **content, "reply_to": "wamid.HBgL"})
    assert cmd.type == type_ and cmd.text == "" and cmd.reply_to == "wamid.HBgL"


def test_the_field_matching_type_is_required_and_the_others_refused():
    assert errors(SendMessage, {**BASE}) == [("text", "Value error, required for a text message")]
    assert fields(SendMessage, {**BASE, "text": ""}) == {"text"}
    assert fields(SendMessage, {**BASE, "type": "template"}) == {"template"}
    assert fields(SendMessage, {**BASE, "type": "image"}) == {"media"}
    assert fields(SendMessage, {**BASE, "type": "interactive"}) == {"interactive"}
    assert fields(SendMessage, {**BASE, "type": "image", "template": TEMPLATE}) == {"template", "media"}
    assert fields(SendMessage, {**BASE, "text": "hi", "media": {"id": "1"}}) == {"media"}
    assert fields(SendMessage, {**BASE, "type": "template", "template": TEMPLATE, "text": "hi"}) == {"text"}
    assert fields(SendMessage, {**BASE, "type": "location", "text": "x"}) == {"type"}
    msg = dict(errors(SendMessage, {**BASE, "type": "image", "template": TEMPLATE}))["template"]
    assert "not allowed for an image message" in msg and "`media`" in msg


def test_captions_and_filenames_only_where_meta_takes_them():
    for type_ in ("audio", "sticker"):
        [(loc, msg)] = errors(SendMessage, {**BASE, "type": type_, "media": {"id": "1", "caption": "c"}})
        assert loc == "media" and "no caption" in msg
    [(loc, msg)] = errors(SendMessage, {**BASE, "type": "image", "media": {"id": "1", "filename": "a.jpg"}})
    assert loc == "media" and "filename" in msg


# --- media ---------------------------------------------------------------------------------------

def test_media_needs_exactly_one_of_link_or_id():
    assert "exactly one of `link` or `id`" in errors(Media, {"link": "https://x.example/a", "id": "1"})[0][1]
    assert "exactly one of `link` or `id`" in errors(Media, {"caption": "c"})[0][1]
    assert fields(Media, {"link": "ftp://x.example/a"}) == {"link"}
    assert fields(Media, {"id": "1", "caption": "c" * 1025}) == {"caption"}
    assert fields(Media, {"id": "1", "mime_type": "not a type"}) == {"mime_type"}
    assert fields(Media, {"id": "1", "size": 3}) == {"size"}  # strict: unknown fields are refused


# --- templates -----------------------------------------------------------------------------------

def test_template_shape():
    t = Template.model_validate(TEMPLATE)
    assert [c.type for c in t.components] == ["header", "body", "button", "button"]
    assert Template.model_validate({"name": "hello_world", "language": "en"}).components == []
    assert fields(Template, {"language": "en_US"}) == {"name"}
    assert fields(Template, {"name": "Hello World", "language": "en_US"}) == {"name"}
    assert fields(Template, {"name": "x", "language": "english"}) == {"language"}
    assert fields(Template, {"name": "x", "language": "en_US", "namespace": "n"}) == {"namespace"}


@pytest.mark.parametrize(("component", "why"), [
    ({"type": "footer", "parameters": []}, "type"),
    ({"type": "body", "parameters": [{"type": "image", "image": {"id": "1"}}]}, "takes no image parameter"),
    ({"type": "body", "parameters": [{"type": "text"}]}, "needs `text`"),
    ({"type": "body", "parameters": [{"type": "text", "text": "a", "payload": "b"}]}, "takes no `payload`"),
    ({"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "1", "code": "euro",
                                                                       "amount_1000": 1}}]}, "code"),
    ({"type": "header", "parameters": [{"type": "text", "text": "x" * 61}]}, "at most 60 characters"),
    ({"type": "header", "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, "at most one"),
    ({"type": "header", "parameters": [{"type": "image", "image": {"id": "1", "link": "https://a.example"}}]},
     "exactly one of"),
    ({"type": "button", "index": 0, "parameters": [{"type": "payload", "payload": "p"}]}, "`sub_type` and `index`"),
    ({"type": "button", "sub_type": "quick_reply", "index": 10, "parameters": [{"type": "payload", "payload": "p"}]},
     "index"),
    ({"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "text", "text": "p"}]},
     "exactly one payload parameter"),
    ({"type": "button", "sub_type": "url", "index": 0, "parameters": []}, "exactly one text parameter"),
    ({"type": "body", "sub_type": "url", "parameters": []}, "only for button components"),
])
def test_bad_template_components_are_refused(component, why):
    problems = errors(Template, {"name": "x", "language": "en", "components": [component]})
    assert all(loc.startswith("components.0") for loc, _ in problems), problems
    assert any(why in loc or why in msg for loc, msg in problems), problems


def test_template_components_fit_together():
    body = {"type": "body", "parameters": [{"type": "text", "text": "a"}]}
    quick = {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "p"}]}
    assert "at most one body" in errors(Template, {"name": "x", "language": "en", "components": [body, body]})[0][1]
    assert "button index" in errors(Template, {"name": "x", "language": "en", "components": [quick, quick]})[0][1]
    long_body = {"type": "body", "parameters": [{"type": "text", "text": "a" * 1025}]}
    Template.model_validate({"name": "x", "language": "en", "components": [long_body]})  # alone: up to 32768
    assert "1024" in errors(Template, {"name": "x", "language": "en", "components": [long_body, quick]})[0][1]


# --- interactive ---------------------------------------------------------------------------------

def buttons(n: int, **reply) -> dict:
    return {**BUTTONS, "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"Option {i}", **reply}}
                                              for i in range(n)]}}


def test_reply_buttons_limits():
    assert len(Interactive.model_validate(buttons(3)).action.buttons) == 3
    assert fields(Interactive, buttons(4)) == {"action.buttons"}
    assert fields(Interactive, buttons(0)) == {"action.buttons"}
    assert fields(Interactive, buttons(1, title="x" * 21)) == {"action.buttons.0.reply.title"}
    assert fields(Interactive, buttons(1, id="x" * 257)) == {"action.buttons.0.reply.id"}
    assert "titles must be unique" in errors(Interactive, buttons(2, title="Same"))[0][1]
    assert "1024" in errors(Interactive, {**buttons(1), "body": {"text": "x" * 1025}})[0][1]
    assert fields(Interactive, {**buttons(1), "footer": {"text": "x" * 61}}) == {"footer.text"}
    assert "needs `action.buttons`" in errors(Interactive, {**LIST, "type": "button"})[0][1]


def test_list_limits():
    Interactive.model_validate(LIST)
    Interactive.model_validate({**LIST, "body": {"text": "x" * 4096}})  # Meta: list bodies up to 4096
    sections = LIST["action"]["sections"]
    assert fields(Interactive, {**LIST, "action": {"button": "x" * 21, "sections": sections}}) == {"action.button"}
    eleven = [{"title": f"S{i}", "rows": [{"id": f"r{i}", "title": "Row"}]} for i in range(11)]
    assert fields(Interactive, {**LIST, "action": {"button": "Go", "sections": eleven}}) == {"action.sections"}
    many = [{"title": "A", "rows": [{"id": f"a{i}", "title": "Row"} for i in range(6)]},
            {"title": "B", "rows": [{"id": f"b{i}", "title": "Row"} for i in range(5)]}]
    assert "at most 10 rows" in errors(Interactive, {**LIST, "action": {"button": "Go", "sections": many}})[0][1]
    row = {"id": "r", "title": "x" * 25, "description": "y" * 73}
    assert fields(Interactive, {**LIST, "action": {"button": "Go", "sections": [{"rows": [row]}]}}) == {
        "action.sections.0.rows.0.title", "action.sections.0.rows.0.description"}
    untitled = [{"rows": [{"id": "a", "title": "A"}]}, {"rows": [{"id": "b", "title": "B"}]}]
    assert "needs a `title`" in errors(Interactive, {**LIST, "action": {"button": "Go", "sections": untitled}})[0][1]
    assert "text header only" in errors(Interactive, {**LIST, "header": BUTTONS["header"]})[0][1]
    assert "needs `action.button`" in errors(Interactive, {**BUTTONS, "type": "list"})[0][1]


# --- summaries -----------------------------------------------------------------------------------

def test_summaries_are_short_and_readable():
    def of(**content):
        return summary(SendMessage.model_validate({**BASE, **content}))

    assert of(text="hi there") == "hi there"
    assert of(type="template", template=TEMPLATE) == "[template order_update en_US] Ada, €12.50, May 1, 2026"
    assert of(type="template", template={"name": "hello_world", "language": "en"}) == "[template hello_world en]"
    assert of(type="image", media={"id": "1", "caption": "Our shop"}) == "[image] Our shop"
    assert of(type="document", media={"id": "1", "filename": "invoice.pdf"}) == "[document invoice.pdf]"
    assert of(type="sticker", media={"id": "1"}) == "[sticker]"
    assert of(type="interactive", interactive=BUTTONS) == "[buttons] Keep the appointment? (Yes / Reschedule)"
    assert of(type="interactive", interactive=LIST) == "[list] Which option? (Options)"
    long = of(type="interactive", interactive={**LIST, "body": {"text": "x" * 4000}})
    assert len(long) == 200 and long.endswith("…")
