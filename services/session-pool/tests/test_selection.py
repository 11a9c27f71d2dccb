"""Selection from a pool (domain/selection.py) and the label directory, in memory."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard_contracts.commands import RegisterSender, SenderPool, SendMessage
from switchboard_contracts.ids import new_id
from switchboard_runtime.eventstore import memory_application
from switchboard_session_pool.application import SendersApp
from switchboard_session_pool.domain.health import Health
from switchboard_session_pool.domain.selection import Candidates, Rotation
from switchboard_session_pool.senders.directory import SenderDirectory

POOLS = st.lists(st.sampled_from([f"s{i}" for i in range(12)]), min_size=1, max_size=12, unique=True)


def pick(rotation: Rotation, pool, candidates, recipient, usable=lambda s: True, has_quota=lambda s: True):
    """What the dispatcher does: take the first in order, then tell the rotation."""
    chosen = next(rotation.order(pool, candidates, recipient, usable, has_quota), None)
    if chosen is not None:
        rotation.chosen(pool, candidates, recipient, chosen)
    return chosen


@given(candidates=POOLS, rounds=st.integers(1, 6), extra=st.integers(0, 11))
def test_round_robin_spreads_new_recipients_evenly(candidates, rounds, extra):
    rotation = Rotation()
    ids = Candidates(candidates)
    n = len(ids) * rounds + extra % len(ids)
    counts = Counter(pick(rotation, "p", ids, f"+49{i}") for i in range(n))
    assert set(counts) <= set(ids)
    assert max(counts.values()) - min(counts.get(s, 0) for s in ids) <= 1


@given(candidates=POOLS, data=st.data())
def test_never_yields_an_unusable_sender_or_one_without_quota(candidates, data):
    usable = set(data.draw(st.lists(st.sampled_from(candidates), unique=True)))
    quota = set(data.draw(st.lists(st.sampled_from(candidates), unique=True)))
    rotation = Rotation()
    for i in range(data.draw(st.integers(0, 20))):  # some history: cursors and sticky senders
        pick(rotation, "p", candidates, f"+49{i % 5}", usable.__contains__, quota.__contains__)
    order = list(rotation.order("p", candidates, f"+49{data.draw(st.integers(0, 6))}",
                                usable.__contains__, quota.__contains__))
    assert set(order) == usable & quota  # every usable one with quota, once each
    assert len(order) == len(set(order))


@given(candidates=POOLS, others=st.integers(0, 30), data=st.data())
def test_sticky_sender_holds_while_usable_and_moves_when_not(candidates, others, data):
    rotation = Rotation()
    first = pick(rotation, "p", candidates, "+4915100000001")
    for i in range(others):  # other recipients move the cursor meanwhile
        pick(rotation, "p", candidates, f"+4916{i}")
    assert pick(rotation, "p", candidates, "+4915100000001") == first
    down = set(data.draw(st.lists(st.sampled_from(candidates), unique=True))) | {first}
    moved = pick(rotation, "p", candidates, "+4915100000001", lambda s: s not in down)
    assert moved != first and (moved is None or moved not in down)
    if moved is not None:  # and it sticks to its new sender, even once the old one is back
        assert pick(rotation, "p", candidates, "+4915100000001") == moved


def test_sticky_is_kept_only_for_a_pool_member_and_is_bounded():
    rotation = Rotation(sticky_entries=3)
    assert pick(rotation, "p", ["a", "b"], "r1") == "a"
    assert pick(rotation, "q", ["c", "d"], "r1") == "c"  # another pool: its own senders
    for r in ("r2", "r3", "r4"):
        pick(rotation, "p", ["a", "b"], r)
    assert len(rotation.sticky) == 3 and rotation.sticky_sender("r1") is None  # least recent forgotten


def test_health_makes_a_sender_unselectable():
    h = Health()
    for _ in range(5):
        h.record(False)
    assert h.score > 50 and not h.selectable  # five failures in a row
    h.record(True)
    assert h.selectable
    for _ in range(4):
        h.record(False)
    h.record(True)
    assert h.consecutive_failures == 0 and h.score < 50 and not h.selectable  # below 50


def test_send_message_names_one_sender_or_one_pool():
    base = {"message_id": "m", "to": "+4915112345678", "text": "hi", "requested_at": "2026-01-01T00:00:00Z"}
    assert SendMessage.model_validate({**base, "sender_id": "s"}).pool is None  # old commands stay valid
    assert SendMessage.model_validate({**base, "pool": {"label": "sales"}}).pool.label == "sales"
    assert SendMessage.model_validate({**base, "pool": {"sender_ids": ["a", "b"]}}).sender_id is None
    for bad in ({}, {"sender_id": "s", "pool": {"label": "x"}}, {"pool": {}},
                {"pool": {"label": "x", "sender_ids": ["a"]}}, {"pool": {"sender_ids": ["a", "a"]}},
                {"pool": {"sender_ids": [str(i) for i in range(101)]}}, {"pool": {"label": "a" * 65}}):
        try:
            SendMessage.model_validate({**base, **bad})
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
    assert SenderPool(sender_ids=["a"]).label is None


def test_directory_follows_labels_from_the_event_log():
    app = memory_application(SendersApp)
    directory = SenderDirectory(app, refresh_seconds=0)

    def register(org, labels):
        sender_id = new_id()
        app.register(org, RegisterSender(sender_id=sender_id, name="s", provider="simulator", labels=labels))
        return sender_id

    a, b = register("o1", ["sales"]), register("o1", ["sales", "vip"])
    register("o2", ["sales"])  # another organization's
    asyncio.run(directory.refresh())
    assert list(directory.labelled("o1", "sales")) == [a, b] and list(directory.labelled("o1", "vip")) == [b]
    app.update("o1", a, None, None, ["vip"])
    app.remove("o1", b)
    c = register("o1", ["sales"])
    asyncio.run(directory.refresh())
    assert list(directory.labelled("o1", "sales")) == [c]
    assert list(directory.labelled("o1", "vip")) == [a]
    assert not directory.knows("o1", "nobody")


@settings(max_examples=50)
@given(n=st.integers(1, 40))
def test_candidates_know_their_positions(n):
    ids = Candidates([f"s{i}" for i in range(n)])
    assert all(ids.position[s] == i for i, s in enumerate(ids)) and tuple(ids) == tuple(f"s{i}" for i in range(n))
