"""Aggregate and policy tests, in memory."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard_contracts.commands import RegisterSender
from switchboard_contracts.ids import new_id
from switchboard_runtime.eventstore import memory_application
from switchboard_session_pool.application import SendersApp
from switchboard_session_pool.domain.quota import WINDOWS, QuotaLedger
from switchboard_session_pool.domain.sender import Sender


def test_simulator_sender_registers_connected_and_idempotently():
    app = memory_application(SendersApp)
    cmd = RegisterSender(sender_id=new_id(), name="sim", provider="simulator", quotas={"per_minute": 5})
    first = app.register("org1", cmd)
    again = app.register("org1", cmd)
    assert first.id == again.id and str(first.id) == cmd.sender_id
    assert again.version == 2  # Registered + Connected, not twice
    stored = app.find(cmd.sender_id)
    assert stored.status == "connected" and stored.can_send()
    assert stored.quotas["per_minute"] == 5
    assert stored.phone_number.startswith("+1555")


def test_unknown_sender_is_none():
    app = memory_application(SendersApp)
    assert app.find(new_id()) is None
    assert app.find("not-a-uuid") is None


def test_sender_events_in_order():
    s = Sender(sender_id=new_id(), org_id="o", name="n", provider="simulator", quotas={},
               phone_number="+15550000001", registered_at=None)
    s.connect(org_id="o", connected_at=None)
    assert [type(e).__name__ for e in s.collect_events()] == ["Registered", "Connected"]


quota_values = st.one_of(st.none(), st.integers(min_value=1, max_value=20))


@settings(max_examples=300, deadline=None)
@given(per_minute=quota_values, per_hour=quota_values, per_day=quota_values,
       calls=st.lists(st.tuples(st.floats(min_value=0, max_value=900, allow_nan=False),
                                st.integers(min_value=1, max_value=8)), min_size=1, max_size=200))
def test_quota_never_exceeded_in_any_window(per_minute, per_hour, per_day, calls):
    """Whatever the timing and batch sizes, no sliding window ever holds more sends than its limit
    (the shared state passes from call to call as compare-and-set serializes replicas)."""
    quotas = {"per_minute": per_minute, "per_hour": per_hour, "per_day": per_day}
    ledger = QuotaLedger(quotas)
    now, state, taken = 0.0, None, []
    for gap, wanted in calls:
        now += gap
        granted, wait, state = ledger.take(state, now, wanted)
        assert 0 <= granted <= wanted and (granted == wanted or wait > 0)
        taken.extend([now] * granted)
    for name, limit in quotas.items():
        if limit is None:
            continue
        seconds = WINDOWS[name]
        for i, t in enumerate(taken):  # every window (t - seconds, t] holds at most `limit` sends
            assert sum(1 for u in taken[: i + 1] if u > t - seconds) <= limit


def test_quota_wait_time_says_when_a_slot_frees():
    ledger = QuotaLedger({"per_minute": 2})
    granted, _, state = ledger.take(None, 0.0, 1)
    granted2, _, state = ledger.take(state, 10.0, 1)
    assert granted == granted2 == 1
    granted, wait, state = ledger.take(state, 20.0, 1)
    assert granted == 0 and wait == 41.0  # the send at t=0 counts until its 1-second bucket leaves at t=61
    granted, _, state = ledger.take(state, 61.0, 5)
    assert granted == 1 and ledger.usage(state, 61.0)["per_minute"] == {"used": 2, "left": 0, "limit": 2}
    assert QuotaLedger({}).unlimited and QuotaLedger({}).take(None, 0.0, 7)[0] == 7


def test_pause_resume_and_disconnect():
    app = memory_application(SendersApp)
    cmd = RegisterSender(sender_id=new_id(), name="sim", provider="simulator")
    app.register("org1", cmd)
    assert app.pause("other-org", cmd.sender_id, "x") is None  # not that organization's sender
    paused = app.pause("org1", cmd.sender_id, "spam rate limit (131048)", automatic=True, code=131048)
    assert not paused.can_send() and paused.lifecycle == "paused" and paused.paused["automatic"]
    assert app.pause("org1", cmd.sender_id, "again").version == paused.version  # idempotent
    resumed = app.resume("org1", cmd.sender_id)
    assert resumed.can_send() and resumed.lifecycle == "connected"
    gone = app.disconnected("org1", cmd.sender_id, "Invalid OAuth access token", code=190)
    assert gone.lifecycle == "disconnected" and gone.reason == "Invalid OAuth access token" and not gone.can_send()
    back = app.connected("org1", cmd.sender_id, phone_number="+15550001111")
    assert back.can_send() and back.phone_number == "+15550001111" and back.reason is None


def test_health_score_and_failure_runs():
    from switchboard_session_pool.domain.health import Health

    h = Health()
    for _ in range(4):
        h.record(False)
    assert h.selectable and not h.should_pause and 60 < h.score < 70
    h.record(False)
    assert not h.selectable  # 5 failures in a row
    for _ in range(5):
        h.record(False)
    assert h.should_pause and h.score < 50
    h.record(True)
    assert h.consecutive_failures == 0 and not h.should_pause and not h.selectable  # score still low
    for _ in range(10):
        h.record(True)
    assert h.selectable


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=5, allow_nan=False), st.sampled_from("abc")),
                min_size=1, max_size=200))
def test_pair_rate_keeps_six_seconds_between_messages_to_one_recipient(calls):
    from switchboard_session_pool.domain.pair_rate import PairRate

    pairs, now, sent = PairRate(6.0), 0.0, {}
    for gap, recipient in calls:
        now += gap
        if pairs.wait("s", recipient, now) == 0:
            pairs.record("s", recipient, now)
            sent.setdefault(recipient, []).append(now)
    for times in sent.values():
        assert all(b - a >= 6.0 - 1e-9 for a, b in zip(times, times[1:]))


def test_a_claimed_pair_is_taken_until_released():
    """Admission claims a pair before it awaits the quota: a batch admitted meanwhile must wait; a
    claim the quota refused is undone and leaves the pair as it was."""
    from switchboard_session_pool.domain.pair_rate import PairRate

    pairs = PairRate(6.0)
    previous = pairs.reserve("s", "+1", 10.0)
    assert previous == (None, 16.0) and pairs.wait("s", "+1", 10.0) == 6.0
    pairs.release("s", "+1", previous)
    assert pairs.wait("s", "+1", 10.0) == 0.0
    pairs.record("s", "+1", 10.0)
    claim = pairs.reserve("s", "+1", 17.0)
    pairs.release("s", "+1", claim)
    assert pairs.wait("s", "+1", 12.0) == 4.0
    # a claim still awaiting its quota after its interval: a newer claim is not undone by it
    old = pairs.reserve("s", "+2", 20.0)
    newer = pairs.reserve("s", "+2", 27.0)
    pairs.release("s", "+2", old)
    assert pairs.wait("s", "+2", 28.0) == 5.0
    pairs.release("s", "+2", newer)
    assert pairs.wait("s", "+2", 28.0) == 0.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 4.0), st.sampled_from(["claim", "settle"]), st.sampled_from(["+1", "+2"]),
                          st.booleans()), max_size=60))
def test_claims_settled_in_any_order_never_send_to_a_recipient_twice_within_the_interval(ops):
    """Admissions overlap: each claims its pair at once, then its quota answers later (granted or
    refused), in any order. Whatever the interleaving, two granted sends to a recipient are at least
    the interval apart."""
    from switchboard_session_pool.domain.pair_rate import PairRate

    pairs, now, inflight, sent = PairRate(6.0), 0.0, [], {}
    for gap, op, recipient, granted in ops:
        now += gap
        if op == "claim" and pairs.wait("s", recipient, now) == 0:
            inflight.append((recipient, pairs.reserve("s", recipient, now), now, granted))
        elif op == "settle" and inflight:
            who, previous, at, ok = inflight.pop(0 if granted else -1)
            if ok:
                sent.setdefault(who, []).append(at)
            else:
                pairs.release("s", who, previous)
    for who, previous, at, ok in inflight:
        if ok:
            sent.setdefault(who, []).append(at)
    for times in sent.values():
        times.sort()
        assert all(b - a >= 6.0 - 1e-9 for a, b in zip(times, times[1:])), times  # the tat is a float sum: 1e-15 s either way


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5), st.lists(st.tuples(st.floats(0.0, 4.0), st.sampled_from(["claim", "settle"]),
                                             st.booleans()), max_size=80))
def test_a_pair_bursts_at_most_burst_messages_then_one_per_interval(burst, ops):
    """The token bucket: however claims and refusals interleave, any stretch of time between two
    sends to a recipient holds at most `burst` + (its length / interval) of them — a burst at
    once, then the average rate."""
    from switchboard_session_pool.domain.pair_rate import PairRate

    pairs, now, inflight, sent = PairRate(6.0, burst), 0.0, [], []
    for gap, op, granted in ops:
        now += gap
        if op == "claim":
            while pairs.wait("s", "+1", now) == 0 and len(inflight) < 10:  # a batch of several at once
                inflight.append((pairs.reserve("s", "+1", now), now, granted))
        elif inflight:
            claim, at, ok = inflight.pop()  # the newest claim answered first, as admission undoes them
            if ok:
                sent.append(at)
            else:
                pairs.release("s", "+1", claim)
    sent += [at for _, at, ok in inflight if ok]
    sent.sort()
    for i in range(len(sent)):
        for j in range(i, len(sent)):
            assert j - i + 1 <= burst + (sent[j] - sent[i]) / 6.0 + 1e-9, (burst, sent)


def test_a_burst_of_three_goes_at_once_and_the_fourth_waits_its_interval():
    from switchboard_session_pool.domain.pair_rate import PairRate

    pairs = PairRate(6.0, burst=3)
    for _ in range(3):
        assert pairs.wait("s", "+1", 100.0) == 0.0
        pairs.reserve("s", "+1", 100.0)
    assert pairs.wait("s", "+1", 100.0) == 6.0  # paid back at one per 6 s
    assert pairs.wait("s", "+1", 106.0) == 0.0
    assert pairs.wait("s", "+2", 100.0) == 0.0  # another recipient has its own bucket
    assert pairs.wait("s", "+1", 118.0) == 0.0 and PairRate(6.0).burst == 1


def test_warmup_ramps_the_daily_quota_by_age():
    day = 86400.0
    ledger = QuotaLedger({"per_day": 50, "warmup": {"first_day": 20, "growth": 2.0}}, registered_at=0.0)
    assert ledger.limits_at(10.0)["per_day"] == 20
    assert ledger.limits_at(day + 1)["per_day"] == 40
    assert ledger.limits_at(2 * day + 1)["per_day"] == 50  # 80 by the ramp, capped by the quota
    granted, wait, state = ledger.take(None, 100.0, 25)
    assert granted == 20 and wait > 0  # day one: 20
    uncapped = QuotaLedger({"warmup": {"first_day": 5}}, registered_at=0.0)
    assert not uncapped.unlimited and uncapped.limits_at(3 * day)["per_day"] == 40


def test_a_message_from_another_sender_is_the_message_with_that_sender():
    from dataclasses import fields, replace

    from switchboard_session_pool.domain.outbound import OutboundMessage

    m = OutboundMessage(message_id="m", org_id="o", sender_id="s1", sender_phone="+1", to="+49", text="hi",
                        client_ref="c", correlationid="k", causationid="e", traceparent="t", expires_at=1.5,
                        type="template", template={"name": "x"}, reply_to="w", outcome_to="flow.send_outcome")
    moved = m.from_sender("s2", "+2")
    assert moved == replace(m, sender_id="s2", sender_phone="+2")
    assert [f.name for f in fields(OutboundMessage)] == list(vars(moved))  # every field, nothing else
    assert (m.sender_id, m.sender_phone) == ("s1", "+1")  # the original unchanged
