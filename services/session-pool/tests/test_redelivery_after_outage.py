"""A session-pool stopped while messages wait for quota, started again after JetStream's duplicate
window has passed: the redelivered commands publish nothing the stream already stores (every event
id is stored once), because the session-pool notes what it published instead of relying on the
window."""

from __future__ import annotations

import asyncio
from collections import Counter

from switchboard_contracts.ids import new_id

from .helpers import (publish_command, register_simulator, running_session_pool, send_command,
                      shrink_duplicate_window, stored_msg_ids)


async def _held(js, count: int, redelivered: bool, timeout: float) -> None:
    for _ in range(int(timeout / 0.2)):
        info = await js.consumer_info("SWITCHBOARD_COMMANDS", "session_pool__send")
        if info.num_ack_pending == count and info.num_pending == 0 and (
                not redelivered or info.num_redelivered >= count):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the commands were not held: {info}")


async def test_waiting_messages_are_not_announced_twice_after_a_long_stop(nats_url, database_url):
    org, sender = new_id(), new_id()
    cmds = [send_command(org, sender, f"+49151123456{i:02d}") for i in range(5)]
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sender, per_minute=2)
        for ce in cmds:
            await publish_command(js, ce)
        await _held(js, 3, redelivered=False, timeout=20)  # two sent, three waiting for quota
        await asyncio.sleep(0.5)
        before = await stored_msg_ids(js, f"sb.evt.{org}.message.>")
        # the outage outlives the duplicate window: JetStream forgets these ids (start-up restores
        # the production window, the forgotten ids stay forgotten)
        await shrink_duplicate_window(js, 1.0)
        await asyncio.sleep(2.0)
    assert Counter(i.split(":")[1] for i in before)["accepted"] == 5

    async with running_session_pool(nats_url, database_url) as js:
        # the stopped replica's commands come back after their ack wait (30 s)
        await _held(js, 3, redelivered=True, timeout=60)
        await asyncio.sleep(1.0)
        after = await stored_msg_ids(js, f"sb.evt.{org}.message.>")
    twice = [i for i, n in Counter(after).items() if n > 1]
    assert not twice, f"stored twice: {twice}"
    assert set(after) >= set(before)
