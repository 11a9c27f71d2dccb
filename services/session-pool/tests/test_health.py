"""Ten failures in a row pause a sender automatically, with the reason; its next messages wait."""

from __future__ import annotations

import asyncio

from switchboard_contracts.ids import new_id

from .helpers import collect_events, publish_command, register_simulator, running_session_pool, send_command


async def test_ten_consecutive_failures_pause_the_sender(nats_url, database_url):
    org, sid = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sid)
        for i in range(10):  # the simulator fails numbers ending in 0000
            await publish_command(js, send_command(org, sid, f"+4915130{i:02d}0000"))
        paused = await collect_events(js, f"sb.evt.{org}.sender.paused", lambda ev: len(ev) == 1, timeout=15)
        assert paused[0].data["automatic"] is True and paused[0].data["reason"] == "10 consecutive failures"
        held = send_command(org, sid, "+4915130991234")
        await publish_command(js, held)
        await asyncio.sleep(1.0)
        events = await collect_events(js, f"sb.evt.{org}.message.>", lambda ev: any(
            e.data.get("message_id") == held.id for e in ev))
    assert [e.type.split(".")[2] for e in events if e.data.get("message_id") == held.id] == ["accepted"]
