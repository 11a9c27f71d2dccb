"""Acking a batch of JetStream messages in one write (`wire.write_many`): every `+ACK` is an empty
publish to the message's reply subject, as nats-py's `Msg.ack` sends it, but all of them go to the
connection's flusher at once (on the connection the messages arrived on, then each marked acked as
`Msg.ack` marks it: `nats_internals`). Messages already acked take nats-py's own path (and its error)."""

from __future__ import annotations

from nats.aio.msg import Msg

from .nats_internals import connection_of, mark_acked
from .wire import write_many


async def ack_many(msgs: list[Msg]) -> None:
    if not msgs:
        return
    if any(m.is_acked or not m.reply for m in msgs):
        for m in msgs:
            await m.ack()
        return
    await write_many(connection_of(msgs[0]), [(m.reply, "", b"", None) for m in msgs])
    mark_acked(msgs)
