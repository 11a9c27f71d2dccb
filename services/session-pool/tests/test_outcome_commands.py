"""A send command's `outcome_to`: the session-pool also sends the message's outcome (`sent`, `failed`)
as that command, the very `message.status` document with the command's type (real NATS, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import nats

from switchboard_contracts import commands
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY

from .helpers import (collect_events, command, invalid_send_command, publish_command, register_simulator,
                      running_session_pool)
from .test_send_pipeline import statuses_of

OUTCOME = "switchboard.command.flow.send_outcome.v1"


def send(org: str, sender: str, to: str, outcome_to: str | None = "flow.send_outcome"):
    cmd = commands.SendMessage(message_id=new_id(), sender_id=sender, to=to, text="hi", client_ref="flow:x",
                               requested_at=datetime.now(UTC), outcome_to=outcome_to)
    return command(org, commands.SEND_MESSAGE, cmd, id_=cmd.message_id)


async def outcomes(js, org: str, n: int, timeout: float = REPLY) -> list[dict]:
    """The first `n` outcome commands of the organization, taken from the work queue as flows would."""
    sub = await js.pull_subscribe(f"sb.cmd.{org}.flow.send_outcome", f"outcomes_{org}", stream="SWITCHBOARD_COMMANDS")
    out: list[dict] = []
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while len(out) < n:
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"only {len(out)} of {n} outcome commands: {out}"
            try:
                for m in await sub.fetch(n - len(out), timeout=min(remaining, 1.0)):
                    out.append({"msg_id": m.headers["Nats-Msg-Id"], **json.loads(m.data)})
                    await m.ack()
            except nats.errors.TimeoutError:
                pass
    finally:
        await sub.unsubscribe()
    return out


async def test_the_outcome_goes_to_the_command_the_send_names(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sender)
        ok, bad, plain = send(org, sender, "+4915112345678"), send(org, sender, "+4915112340000"), \
            send(org, sender, "+4915112345679", outcome_to=None)
        for ce in (ok, bad, plain):
            await publish_command(js, ce)
        events = await collect_events(js, f"sb.evt.{org}.message.status", lambda ev: all(
            s in statuses_of(ev, m.id) for m, s in ((ok, "read"), (bad, "failed"), (plain, "read"))))
        got = {o["data"]["message_id"]: o for o in await outcomes(js, org, 2)}
        await asyncio.sleep(0.5)  # nothing more comes: delivered, read and `plain` send no command
        subject = f"sb.cmd.{org}.flow.send_outcome"
        left = (await js.stream_info("SWITCHBOARD_COMMANDS", subjects_filter=subject)).state.subjects
    assert set(got) == {ok.id, bad.id} and not left
    by_id = {(e.data["message_id"], e.data["status"]): e for e in events}
    for message, status in ((ok, "sent"), (bad, "failed")):
        outcome, event = got[message.id], by_id[(message.id, status)]
        assert outcome["type"] == OUTCOME and outcome["data"]["status"] == status
        assert outcome["id"] == outcome["msg_id"] == event.id  # the status event's id: stored once each
        assert outcome["data"] == event.data and outcome["orgid"] == org
        assert outcome["data"]["client_ref"] == "flow:x"
    assert got[bad.id]["data"]["error"]["code"] == 131026


async def test_a_command_that_cannot_be_processed_sends_its_failed_outcome(nats_url, database_url):
    org, sender = new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        await register_simulator(js, org, sender)
        mid = new_id()
        await js.publish(f"sb.cmd.{org}.message.send",
                         invalid_send_command(org, sender, mid, outcome_to="flow.send_outcome"))
        [outcome] = await outcomes(js, org, 1)
    assert outcome["type"] == OUTCOME and outcome["data"]["message_id"] == mid
    assert outcome["data"]["status"] == "failed"
    assert outcome["data"]["error"]["code"] == "unprocessable_command"


def test_outcome_to_names_a_command_of_two_words():
    base = {"message_id": "m", "sender_id": "s", "to": "+4915112345678", "text": "hi",
            "requested_at": datetime.now(UTC)}
    assert commands.SendMessage(**base, outcome_to="flow.send_outcome").outcome_to == "flow.send_outcome"
    for wrong in ("flow", "flow.send.outcome", "flow.>", "Flow.x", "flow.*", "a b.c", ""):
        try:
            commands.SendMessage(**base, outcome_to=wrong)
        except ValueError:
            continue
        raise AssertionError(f"accepted outcome_to {wrong!r}")
