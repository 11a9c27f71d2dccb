"""Intake: a batch of send commands read into outbound messages (Delivery → SendMessage →
OutboundMessage), each with its sender — loaded once per replica — or, for a pool message, a
provisional one (pool_choice.py); and the message a dead-lettered command still names."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from switchboard_contracts.commands import OUTCOME_TO, SendMessage
from switchboard_contracts.content import summary
from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.messaging.consumer import BatchOutcome, Delivery

from ..domain.outbound import OutboundMessage
from ..domain.sender import Sender
from .pool_choice import PoolChoice

Read = tuple[Delivery, OutboundMessage, "Sender | None"]


class SendCommand(CloudEvent):
    """A `message.send` envelope with its data read straight into the command model: one pass over the
    JSON instead of a `CloudEvent` (its data a dict) and then the model."""

    data: SendMessage


def _dump(content):
    return content.model_dump(mode="json", exclude_none=True) if content is not None else None


def outbound_message(ce, cmd: SendMessage, sender: Sender | None, ttl_seconds: float) -> OutboundMessage:
    """The message of a send command (`ttl_seconds` when the command names no time-to-live)."""
    ttl = cmd.ttl_seconds or ttl_seconds
    return OutboundMessage(
        message_id=cmd.message_id, org_id=ce.orgid, sender_id=cmd.sender_id,
        sender_phone=(sender.phone_number or "") if sender else "", to=cmd.to,
        text=summary(cmd),  # a text message's text; a short summary of any other content
        client_ref=cmd.client_ref, correlationid=ce.correlationid, causationid=ce.id,
        traceparent=ce.traceparent, expires_at=cmd.requested_at.timestamp() + ttl,
        type=cmd.type, template=_dump(cmd.template), media=_dump(cmd.media),
        interactive=_dump(cmd.interactive), reply_to=cmd.reply_to, outcome_to=cmd.outcome_to)


def dead_letter_message(data: bytes) -> OutboundMessage | None:
    """What a command that cannot be processed still says about its message (None: nothing)."""
    try:
        raw = json.loads(data)
        cmd = raw["data"]
        return OutboundMessage(message_id=str(cmd["message_id"]), org_id=str(raw["orgid"]),
                               sender_id=str(cmd.get("sender_id") or ""), sender_phone="",  # none: a pool
                               to=str(cmd.get("to", "")), text="", client_ref=cmd.get("client_ref"),
                               correlationid=raw.get("correlationid") or raw.get("id", ""),
                               causationid=raw.get("id", ""), outcome_to=_outcome_to(cmd.get("outcome_to")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _outcome_to(value) -> str | None:
    """A dead-lettered command's `outcome_to`, where it is a valid command name (None otherwise)."""
    return value if isinstance(value, str) and re.fullmatch(OUTCOME_TO, value) else None


class Intake:
    def __init__(self, load: Callable[[str], Awaitable[Sender | None]], choice: PoolChoice, ttl_seconds: float):
        self.load = load  # a sender by id, loaded once per replica
        self.choice = choice
        self.ttl_seconds = ttl_seconds  # a message's time-to-live when its command names none

    async def read(self, deliveries: list[Delivery], outcome: BatchOutcome) -> tuple[list[Read], set[str]]:
        """The valid commands' messages with their senders (invalid ones are rejected on `outcome`),
        and the pool messages whose pool names no sender of their organization."""
        valid: list[Read] = []
        no_sender: set[str] = set()
        for d in deliveries:
            try:
                ce = SendCommand.model_validate_json(d.data)
                cmd = ce.data
            except ValidationError as exc:
                outcome.reject(d, f"invalid send command: {exc}")
                continue
            if cmd.pool is not None:  # its sender is chosen when it may go (PoolChoice.choose)
                m = outbound_message(ce, cmd, None, self.ttl_seconds)
                valid.append(item := await self.choice.provisional(d, m, cmd.pool))
                if item[2] is None:
                    no_sender.add(cmd.message_id)
                continue
            sender = await self.load(cmd.sender_id)
            valid.append((d, outbound_message(ce, cmd, sender, self.ttl_seconds), sender))
        return valid, no_sender
