"""Published v1 schemas stay compatible; envelopes are valid CloudEvents."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cloudevents.v1.http import from_json

from switchboard_contracts import message
from switchboard_contracts.envelope import make_envelope, subject_of
from switchboard_runtime.contract_docs import (command_schemas, compatibility_problems, event_schemas,
                                               schema_filename)

PUBLISHED = Path(__file__).resolve().parents[1] / "docs" / "contracts" / "events"


def published(type_: str) -> dict:
    return json.loads((PUBLISHED / schema_filename(type_)).read_text())


@pytest.mark.parametrize("type_", sorted(event_schemas()))
def test_current_schema_is_compatible_with_the_published_one(type_):
    assert (PUBLISHED / schema_filename(type_)).exists(), f"run `make contracts` to publish {type_}"
    assert compatibility_problems(published(type_), event_schemas()[type_]) == []


def test_every_published_schema_still_has_a_model():
    for path in PUBLISHED.glob("*.schema.json"):
        assert path.name.removesuffix(".schema.json") in event_schemas(), f"{path.name} lost its model"


def test_checker_catches_a_removed_field():
    old = published(message.STATUS)
    new = copy.deepcopy(old)
    del new["properties"]["client_ref"]
    assert compatibility_problems(old, new) == ["client_ref: removed or renamed"]


def test_checker_catches_a_retyped_field_and_a_new_required_field():
    old = published(message.RECEIVED)
    new = copy.deepcopy(old)
    new["properties"]["text"] = {"type": "integer"}
    new["properties"]["priority"] = {"type": "integer"}
    new["required"] = [*new["required"], "priority"]
    problems = compatibility_problems(old, new)
    assert any(p.startswith("text: type changed") for p in problems)
    assert "priority: new required field" in problems


def test_checker_catches_a_removed_enum_value_and_nested_changes():
    old = published(message.STATUS)
    new = copy.deepcopy(old)
    status_def = new["$defs"]["Status"]
    status_def["enum"] = [v for v in status_def["enum"] if v != "read"]
    new["$defs"]["StatusError"]["properties"].pop("title")
    problems = compatibility_problems(old, new)
    assert any("status: enum values removed ['read']" in p for p in problems)
    assert any(p.startswith("error.title") for p in problems)


def test_adding_an_optional_field_is_compatible():
    old = published(message.STATUS)
    new = copy.deepcopy(old)
    new["properties"]["conversation"] = {"anyOf": [{"type": "object"}, {"type": "null"}]}
    assert compatibility_problems(old, new) == []


def test_commands_have_schemas_too():
    assert {"switchboard.command.message.send.v1"} <= set(command_schemas())


def test_envelope_is_a_cloudevent_with_our_extensions():
    data = message.MessageStatus(message_id="m1", sender_id="s1", recipient="+4915112345678",
                                 status="sent", timestamp=datetime.now(UTC))
    ce = make_envelope(id="e1", source="switchboard/test", type=message.STATUS, orgid="org1", data=data,
                       subject="m1", traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    parsed = from_json(ce.to_json_bytes())
    assert parsed["specversion"] == "1.0"
    assert parsed["type"] == "switchboard.message.status.v1"
    assert parsed["orgid"] == "org1" and parsed["correlationid"] == "e1" and parsed["causationid"] == "e1"
    assert parsed["traceparent"].startswith("00-")
    assert parsed.data["status"] == "sent"
    assert subject_of(ce) == "sb.evt.org1.message.status"


def test_envelope_json_is_the_envelope_serialized():
    from datetime import UTC, datetime

    from switchboard_contracts import message, sender
    from switchboard_contracts.envelope import envelope_json, make_envelope

    at = datetime(2026, 11, 29, 8, 30, 1, 250, tzinfo=UTC)
    received = message.MessageReceived(
        message_id="m-1", provider_message_id="wamid.ä", sender_id="s", **{"from": "+34600111222"}, to="+1555",
        timestamp=at, type="location", text="Café <Plaza> \"Mayor\"", content={"latitude": 40.4, "x": None},
        media=message.MediaRef(id="9", mime_type="image/jpeg"))
    status = message.MessageStatus(message_id=None, provider_message_id="w", sender_id="s", recipient="+1",
                                   status="failed", timestamp=at,
                                   error=message.StatusError(code=131026, title="Undeliverable"))
    error = sender.SenderError(sender_id="s", provider="meta-cloud", code=4, title="Rate", timestamp=at)
    for data, extra in ((received, {"subject": "m-1"}), (status, {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}),
                        (error, {"subject": "s", "correlationid": "c", "causationid": "d"}),
                        (received, {"time": datetime(2026, 1, 1, tzinfo=UTC)}),
                        (received, {"subject": 'wamid.="quoted"\\back\nslash\u00e9'})):
        args = {"id": "e-1", "source": "switchboard/test", "type": "switchboard.x.y.v1", "orgid": "o",
                "data": data, "time": at, **extra}
        assert envelope_json(**args) == make_envelope(**args).to_json_bytes()
