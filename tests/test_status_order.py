"""The status rule every consumer of `message.status` shares (`MessageState`), as properties: in any
order, with repeats, a message's status never moves back, the highest status wins, its timeline lists
each status once in time order, and applying the same statuses again changes nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard_contracts.message import STATUS_RANK, Status
from switchboard_contracts.timeline import MessageState

RANK = {s.value: r for s, r in STATUS_RANK.items()}
PROGRESS = ["sent", "delivered", "read", "played"]

statuses = st.lists(st.tuples(st.sampled_from([s.value for s in Status]), st.integers(0, 50)), max_size=12)


def _at(t: int) -> str:
    return f"2026-11-29T10:00:{t:02d}Z"


@settings(max_examples=400, deadline=None)
@given(statuses)
def test_a_status_never_moves_back_and_the_highest_wins(seq):
    state = MessageState(None, None, [])
    seen_rank = -1
    for status, t in seq:
        state.apply(status, _at(t))
        assert RANK[state.status] >= seen_rank
        seen_rank = RANK[state.status]
    if seq:
        top = max(RANK[s] for s, _ in seq)
        first_top = next(s for s, _ in seq if RANK[s] == top)  # failed and expired: the first one is final
        assert state.status == first_top
    names = [s["status"] for s in state.statuses]
    assert sorted(set(names)) == sorted(names) and set(names) == {s for s, _ in seq}
    assert [s["at"] for s in state.statuses] == sorted(s["at"] for s in state.statuses)
    assert not any(state.apply(status, _at(t)) for status, t in seq)  # a repeat changes nothing


@settings(max_examples=200, deadline=None)
@given(st.permutations(PROGRESS), st.data())
def test_progress_statuses_end_the_same_in_any_order(order, data):
    times = {"sent": 1, "delivered": 2, "read": 3, "played": 4}
    state = MessageState("queued", _at(0), [{"status": "queued", "at": _at(0)}])
    for status in order:
        state.apply(status, _at(times[status]))
        if data.draw(st.booleans()):  # with repeats anywhere
            state.apply(status, _at(times[status]))
    assert state.status == "played" and state.status_at == _at(4)
    assert [s["status"] for s in state.statuses] == ["queued", *PROGRESS]
