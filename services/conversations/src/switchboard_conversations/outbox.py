"""The command outbox (`command_outbox`): an API send's `message.send` command is written in the
transaction that records the message as `queued`, and published after the commit by the runtime's
outbox drain (`switchboard_runtime.outbox`: in order, pipelined, deleted after every PubAck). A crash in
between publishes the same commands again with the same Nats-Msg-Id; the session-pool's claim of each
message id makes a repeated command send nothing twice. Replicas share the rows (SKIP LOCKED)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.outbox import Outbox, OutboxTable

from .tables import SCHEMA

COMMANDS = OutboxTable(SCHEMA, "command_outbox")
add = COMMANDS.add


def command_outbox(engine: AsyncEngine, publisher: Publisher) -> Outbox:
    return Outbox(engine, publisher, COMMANDS, name="command-outbox")
