"""Acking a batch of JetStream messages in one write (`wire.write_many`): every `+ACK` is an empty
publish to the message's reply subject, as nats-py's `Msg.ack` sends it, but all of them go to the
connection's flusher at once. Messages already acked take nats-py's own path (and its error)."""

from __future__ import annotations

from nats.aio.msg import Msg

from .wire import write_many


async def ack_many(msgs: list[Msg]) -> None:
    if not msgs:
        return
    if any(m._ackd or not m.reply for m in msgs):
        for m in msgs:
            await m.ack()
        return
    await write_many(msgs[0]._client, [(m.reply, "", b"", None) for m in msgs])
    for m in msgs:
        m._ackd = True
