"""Aggregate and history policy tests, in memory."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard_contracts.conversation import conversation_id
from switchboard_conversations.application import ConversationsApp, NewConversation
from switchboard_contracts.timeline import MessageState
from switchboard_runtime.eventstore import memory_application


def test_start_many_is_idempotent_and_ids_are_deterministic():
    app = memory_application(ConversationsApp)
    now = datetime.now(UTC)
    a = NewConversation("org", "s1", "+4915112345678", "Ann", now)
    b = NewConversation("org", "s1", "+4915112345679", None, now)
    started = app.start_many([a, b, a])
    assert len(started) == 2
    assert str(started[0].id) == conversation_id("org", "s1", "+4915112345678")
    assert app.start_many([a, b]) == []
    c = NewConversation("org", "s1", "+4915100000000", None, now)
    assert [str(x.id) for x in app.start_many([a, c])] == [conversation_id("org", "s1", "+4915100000000")]


def test_status_only_moves_forward_and_each_status_appears_once():
    s = MessageState("queued", "t0", [{"status": "queued", "at": "t0"}])
    assert s.apply("read", "t3")
    assert s.apply("sent", "t1")
    assert s.apply("delivered", "t2")
    assert s.status == "read"
    assert [x["status"] for x in s.statuses] == ["queued", "sent", "delivered", "read"]
    assert not s.apply("delivered", "t2")  # a repeat changes nothing


def test_failed_is_terminal_and_keeps_its_error():
    s = MessageState("queued", "t0", [])
    assert s.apply("failed", "t1", error={"code": 131026, "title": "x"})
    s.apply("sent", "t0.5")
    assert s.status == "failed" and s.error["code"] == 131026
