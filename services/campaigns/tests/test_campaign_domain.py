"""The Campaign aggregate's transitions and the opt-out keywords (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard_campaigns.domain.campaign import Campaign, TransitionError
from switchboard_campaigns.domain.keywords import Keywords
from switchboard_campaigns.events import to_cloudevent
from switchboard_contracts import campaign as campaign_contract

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def draft() -> Campaign:
    return Campaign(campaign_id="8b0f6a8e-8a4c-4c0e-9a55-7f7f3b9f2b11", org_id="o", name="n",
                    content={"type": "text", "text": "hi"}, senders={"sender_ids": ["s"]}, timezone="UTC",
                    window=None, delay_ms=None, schedule=None, variables=None, created_at=NOW)


def test_lifecycle_and_refusals():
    c = draft()
    with pytest.raises(TransitionError, match="no contacts"):
        c.start(NOW, starts_later=False)
    c.import_contacts(3, 1, 0, NOW)
    c.import_contacts(2, 0, 0, NOW)
    assert c.contacts == 5
    c.start(NOW, starts_later=True)
    assert c.status == "scheduled"
    c.begin(NOW)
    assert c.status == "running"
    with pytest.raises(TransitionError):
        c.resume(NOW)
    c.pause(NOW)
    c.resume(NOW)
    c.complete(NOW)
    assert c.status == "completed"
    for act in (c.pause, c.cancel, c.resume):
        with pytest.raises(TransitionError):
            act(NOW)
    with pytest.raises(TransitionError):
        c.import_contacts(1, 0, 0, NOW)
    statuses = [e.status for e in c.collect_events() if isinstance(e, Campaign.Transitioned)]
    assert statuses == ["scheduled", "running", "paused", "running", "completed"]


def test_cancel_is_final():
    c = draft()
    c.import_contacts(1, 0, 0, NOW)
    c.start(NOW, starts_later=False)
    c.cancel(NOW)
    c.complete(NOW)  # the runner's completion does not undo a cancel
    assert c.status == "cancelled"


def test_only_a_campaign_that_is_not_sending_is_deleted_and_the_event_is_public():
    c = draft()
    c.import_contacts(3, 0, 0, NOW)
    c.start(NOW, starts_later=False)
    with pytest.raises(TransitionError, match="cancel it first"):
        c.delete(NOW)
    c.cancel(NOW)
    c.delete(NOW)
    assert c.deleted
    event = to_cloudevent(c.collect_events()[-1])
    assert event.type == campaign_contract.DELETED and event.data["campaign_id"] == str(c.id)


def test_a_drafts_edit_is_a_public_event_with_the_whole_definition():
    c = draft()
    spec = {**c.spec(), "name": "renamed", "content": {"type": "text", "text": "Hello {{name|you}}"}}
    c.edit(spec, NOW)
    event = to_cloudevent(c.collect_events()[-1])
    assert event.type == campaign_contract.EDITED and event.data["campaign_id"] == str(c.id)
    assert event.data["name"] == "renamed" and event.data["content"]["text"] == "Hello {{name|you}}"
    assert event.data["senders"] == c.senders and event.data["at"]


def test_events_name_their_actor_and_old_events_without_one_still_load_and_map():
    user = {"type": "user", "id": "u1"}
    c = Campaign(campaign_id="8b0f6a8e-8a4c-4c0e-9a55-7f7f3b9f2b12", org_id="o", name="n",
                 content={"type": "text", "text": "hi"}, senders={"sender_ids": ["s"]}, timezone="UTC",
                 window=None, delay_ms=None, schedule=None, variables=None, created_at=NOW, actor=user)
    c.edit(c.spec(), NOW, user)
    c.import_contacts(2, 0, 0, NOW, user)
    c.start(NOW, starts_later=True, actor=user)
    c.begin(NOW)
    c.pause(NOW, user)
    c.resume(NOW, user)
    c.complete(NOW)
    stored = c.collect_events()
    actors = [(e.type, e.data["actor"]) for e in map(to_cloudevent, stored)]
    system = lambda reason: {"type": "system", "id": reason}  # noqa: E731
    assert actors == [(campaign_contract.CREATED, user), (campaign_contract.EDITED, user),
                      (campaign_contract.CONTACTS_IMPORTED, user), (campaign_contract.SCHEDULED, user),
                      (campaign_contract.STARTED, system("scheduled_start")), (campaign_contract.PAUSED, user),
                      (campaign_contract.RESUMED, user), (campaign_contract.COMPLETED, system("campaign_completed"))]
    for event in stored:  # as stored before events named an actor
        event.__dict__.pop("actor")
    replayed = None
    for event in stored:
        replayed = event.mutate(replayed)
        assert to_cloudevent(event).data["actor"] is None
    assert replayed.status == "completed" and replayed.contacts == 2


@pytest.mark.parametrize("text,kind", [("STOP", "out"), (" stop. ", "out"), ("Stopp", "out"), ("PARAR", "out"),
                                       ("Darme de BAJA", "out"), ("arrêter", "out"), ("start", "in"),
                                       ("stop sending me that?", None), ("", None), (None, None), ("halt", "out")])
def test_keywords(text, kind):
    assert Keywords(extra_out=["halt"]).classify(text) == kind
