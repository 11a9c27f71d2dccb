"""What a template's status does to the campaigns that send it, and the Campaign's template transitions
(pure, in memory)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard_campaigns.domain.campaign import Campaign
from switchboard_campaigns.domain.template_status import (
    Blocked, blocking, effect_on_campaigns, failure_reason, sendable, when_due,
)
from switchboard_campaigns.events import to_cloudevent
from switchboard_contracts import campaign as contract

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def running() -> Campaign:
    c = Campaign(campaign_id="2f4b8c1e-9d3a-4e5f-8a6b-7c8d9e0f1a2b", org_id="o", name="n",
                 content={"type": "template", "template": {"name": "promo", "language": "en_US"}},
                 senders={"sender_ids": ["s"]}, timezone="UTC", window=None, delay_ms=None, schedule=None,
                 variables=None, created_at=NOW)
    c.import_contacts(2, 0, 0, NOW)
    c.start(NOW, starts_later=False)
    return c


@pytest.mark.parametrize("status, effect", [
    ("APPROVED", "resume"), ("FLAGGED", "resume"), ("approved", "resume"),
    ("PAUSED", "pause"), ("PENDING", "pause"),
    ("DISABLED", "fail"), ("DELETED", "fail"), ("PENDING_DELETION", "fail"),
    ("DRAFT", None), ("REJECTED", None), ("ARCHIVED", None), ("SOMETHING_NEW", None)])
def test_each_status_has_its_effect(status, effect):
    assert effect_on_campaigns(status) == effect


def test_flagged_is_still_sent_paused_is_not():
    assert sendable("APPROVED") and sendable("FLAGGED")
    assert not any(sendable(s) for s in ("PAUSED", "PENDING", "DISABLED", "REJECTED", "DRAFT", "DELETED"))


def test_a_due_start_fails_only_for_a_template_that_will_not_come_back():
    assert [when_due(s) for s in ("DISABLED", "REJECTED", "DELETED", "PAUSED", "PENDING", "DRAFT")] == [
        "fail", "fail", "fail", "pause", "pause", "pause"]
    assert failure_reason("DISABLED") == "template_disabled" and failure_reason("rejected") == "template_rejected"


def test_blocking_names_the_worst_account_and_nothing_when_all_may_send():
    ok, paused, gone = (Blocked(s, w, "promo", "en_US") for s, w in (
        ("APPROVED", "w1"), ("PAUSED", "w2"), ("DISABLED", "w3")))
    assert blocking([]) is None and blocking([ok, Blocked("FLAGGED", "w4", "promo", "en_US")]) is None
    assert blocking([ok, paused]) == paused
    assert blocking([paused, gone, ok]) == gone


def test_template_pause_resume_and_failure_name_their_reason_and_actor():
    c = running()
    c.hold_for_template(NOW)
    c.hold_for_template(NOW)  # a repeat changes nothing
    assert (c.status, c.reason) == ("paused", "template_paused")
    c.release_for_template(NOW)
    assert (c.status, c.reason) == ("running", "template_approved")
    c.release_for_template(NOW)
    c.hold_for_template(NOW)
    c.end_for_template("template_disabled", NOW)
    c.end_for_template("template_disabled", NOW)
    assert (c.status, c.reason) == ("failed", "template_disabled")
    events = [to_cloudevent(e) for e in c.collect_events()][-4:]
    assert [(e.type, e.data["reason"], e.data["actor"]) for e in events] == [
        (contract.PAUSED, "template_paused", {"type": "system", "id": "template_paused"}),
        (contract.RESUMED, "template_approved", {"type": "system", "id": "template_approved"}),
        (contract.PAUSED, "template_paused", {"type": "system", "id": "template_paused"}),
        (contract.FAILED, "template_disabled", {"type": "system", "id": "template_disabled"})]


def test_an_operator_pause_is_not_released_by_the_template():
    c = running()
    c.pause(NOW, {"type": "user", "id": "u1"})
    c.hold_for_template(NOW)
    c.release_for_template(NOW)
    assert (c.status, c.reason) == ("paused", None)
    c.resume(NOW, {"type": "user", "id": "u1"})
    assert (c.status, c.reason) == ("running", None)
