"""The timeline of a message's statuses: each status once, in the order they happened."""

from switchboard_contracts.timeline import MessageState


def test_the_timeline_is_ordered_by_time_whatever_the_texts_precision_or_zone():
    state = MessageState("queued", "2026-12-01T12:00:00Z", [{"status": "queued", "at": "2026-12-01T12:00:00Z"}])
    state.apply("read", "2026-12-01T12:00:00.500000Z")
    state.apply("sent", "2026-12-01T12:00:00.010000+00:00")
    state.apply("delivered", "2026-12-01T12:00:00.200000")  # no zone: UTC
    state.apply("sent", "2026-12-01T11:00:00Z")  # a repeat changes nothing
    assert [s["status"] for s in state.statuses] == ["queued", "sent", "delivered", "read"]
    assert state.status == "read"


def test_an_entry_that_is_no_time_sorts_first_instead_of_failing():
    state = MessageState(None, None, [{"status": "queued", "at": "yesterday"}])
    assert state.apply("sent", "2026-12-01T12:00:00Z")
    assert [s["status"] for s in state.statuses] == ["queued", "sent"]
