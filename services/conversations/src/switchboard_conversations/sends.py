"""Sends through the API (`POST /v1/messages`, `/v1/messages/bulk`): each message is recorded as
`queued` in the history and its `message.send` command put in the outbox, in one transaction, with
the idempotency key's answer; the outbox publishes the commands after the commit. So from the 202 on,
`GET /v1/messages/{id}` finds the message, and no command is ever published for a message that was
not recorded (nor recorded without its command)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import commands
from switchboard_contracts.content import summary
from switchboard_contracts.envelope import EncodedEvent, encode_envelope

from . import conversation_table, idempotency, outbox
from .history import record
from .records import NewMessage

SOURCE = "switchboard/conversations"


@dataclass(frozen=True)
class Idempotency:
    key: str
    digest: str  # of the request


class Sends:
    def __init__(self, engine: AsyncEngine, on_commands: Callable[[], None], on_new_conversations=None):
        self.engine = engine
        self.on_commands = on_commands  # wakes the outbox after a commit
        self.on_new_conversations = on_new_conversations  # wakes the conversation starter

    async def send(self, org: str, messages: list[commands.SendMessage], answer: dict,
                   idem: Idempotency | None = None, traceparent: str | None = None,
                   agent_id: str | None = None) -> dict:
        """Record and queue `messages`; returns `answer` — or, for a repeated idempotent request, the
        answer its first time gave (nothing is sent again). `agent_id`: a reply from the inbox by this
        user (or key): it answers the contact, so their wait ends and the first reply is noted."""
        async with self.engine.begin() as conn:
            if idem is not None:
                earlier = await idempotency.claim(conn, org, idem.key, idem.digest, answer)
                if earlier is not None:
                    return earlier
            started = await self.record_in(conn, org, messages, traceparent, agent_id)
        self.committed(bool(messages), started)
        return answer

    async def record_in(self, conn, org: str, messages: list[commands.SendMessage], traceparent: str | None = None,
                        agent_id: str | None = None, correlationid: str | None = None,
                        events: list[EncodedEvent] = ()) -> bool:
        """Record and queue `messages` (and put `events` in the outbox) in the caller's transaction; call
        `committed` after its commit. Whether a conversation was started."""
        envelopes = [_command(org, m, traceparent, correlationid) for m in messages]
        records = [queued(org, m, agent_id) for m in messages]
        recorded = await record(conn, records, [])
        if agent_id is not None:
            await conversation_table.replied(conn, records)
        await outbox.add(conn, [*envelopes, *events])
        return bool(recorded.started)

    async def record_batch(self, conn, sends: list[tuple[str, commands.SendMessage, str | None]],
                           events: list[EncodedEvent]) -> bool:
        """`record_in` for messages of several organizations, each (org, message, correlationid)."""
        envelopes = [_command(org, m, None, correlationid) for org, m, correlationid in sends]
        recorded = await record(conn, [queued(org, m) for org, m, _ in sends], [])
        await outbox.add(conn, [*envelopes, *events])
        return bool(recorded.started)

    def committed(self, published: bool, started: bool) -> None:
        if published:
            self.on_commands()
        if started and self.on_new_conversations:
            self.on_new_conversations()


def _command(org: str, m: commands.SendMessage, traceparent: str | None,
             correlationid: str | None = None) -> EncodedEvent:
    return encode_envelope(id=m.message_id, source=SOURCE, type=commands.SEND_MESSAGE, orgid=org, data=m,
                           subject=m.message_id, traceparent=traceparent,
                           **({"correlationid": correlationid} if correlationid else {}))


def queued(org: str, m: commands.SendMessage, agent_id: str | None = None) -> NewMessage:
    return NewMessage(m.message_id, org, m.sender_id, m.to, "outbound", m.type, summary(m), m.client_ref,
                      None, m.requested_at or datetime.now(UTC), to_number=m.to, agent_id=agent_id)
