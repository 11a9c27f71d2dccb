"""Auto-replies: an inbound message no flow took is answered by the first rule that answers it
(domain/auto_reply.py) — never a blocklisted contact, never one of the organization's own numbers
(the `to` of its inbound messages: two of our senders never answer each other), at most once per
contact in a rule's cooldown and five times an hour in all. The reply's id derives from the rule and
the inbound message: a redelivered message sends nothing twice. A delay of a second or more is a
durable timer; a shorter one waits in-process before the inbound message is acked. A reply that names a
template is sent by name as a flow's is (`template_sends.py`); one the sender may not send is not sent
(logged with its `code`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from switchboard_contracts import commands
from switchboard_contracts.envelope import CloudEvent, make_envelope
from switchboard_contracts.ids import deterministic_id
from switchboard_contracts.message import MessageReceived
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.publisher import Publisher

from .auto_reply_store import AutoReplyStore
from .blocklist import Blocklist
from .domain.auto_reply import AutoReplyRule, first_answering
from .domain.template_check import TemplateRefused
from .performer import CONTENT_FIELDS, SOURCE
from .template_sends import TemplateSends
from .timers import Timers

log = get_logger(__name__)
CLIENT_REF_PREFIX = "auto_reply:"


class AutoReplies:
    def __init__(self, store: AutoReplyStore, blocklist: Blocklist, publisher: Publisher, timers: Timers,
                 templates: TemplateSends, ttl: float = 2.0, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store, self.blocklist, self.publisher, self.timers = store, blocklist, publisher, timers
        self.templates = templates
        self.ttl, self.clock = ttl, clock
        self._of: dict[str, tuple[float, list[tuple[str, AutoReplyRule]], set[str]]] = {}

    def changed(self, org_id: str) -> None:
        self._of.pop(org_id, None)

    async def _known(self, org_id: str) -> tuple[list[tuple[str, AutoReplyRule]], set[str]]:
        found = self._of.get(org_id)
        if found is None or time.monotonic() - found[0] >= self.ttl:
            rules = []
            for rule_id, spec in await self.store.active(org_id):
                try:
                    rules.append((rule_id, AutoReplyRule.model_validate(spec)))
                except ValidationError as exc:  # saved by an older version that checked less: skipped
                    log.warning("auto-reply rule no longer valid", rule_id=rule_id, error=str(exc))
            found = self._of[org_id] = (time.monotonic(), rules, await self.store.own_numbers(org_id))
        return found[1], found[2]

    async def consider(self, ce: CloudEvent, message: MessageReceived, redelivered: bool = False) -> None:
        rules, own = await self._known(ce.orgid)
        if message.to not in own:
            await self.store.note_own_number(ce.orgid, message.to)
            own.add(message.to)
        if message.from_ in own or not rules:
            return
        now = self.clock()
        chosen = first_answering(rules, message.sender_id, message.type, message.text, now)
        if chosen is None or await self.blocklist.blocked(ce.orgid, message.from_):
            return
        rule_id, rule = chosen
        message_id = deterministic_id("auto-reply", rule_id, ce.id)
        if not await self.store.claim(message_id, ce.orgid, rule_id, message.from_, ce.id, rule.cooldown_seconds,
                                      now):
            return
        reply = {"org_id": ce.orgid, "message_id": message_id, "rule_id": rule_id, "to": message.from_,
                 "sender_id": rule.reply_from or message.sender_id,
                 "content": rule.reply(message.from_, message.contact_name, message.text)}
        if rule.delay_ms >= 1000:
            await self.timers.set(ce.orgid, f"ar-{message_id}", now + timedelta(milliseconds=rule.delay_ms),
                                  {"kind": "auto_reply", **reply}, msg_id=f"timer:{message_id}")
            return
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        await self.send(reply, recheck=rule.delay_ms > 0)

    async def send(self, reply: dict[str, Any], recheck: bool = True) -> None:
        """Send a claimed auto-reply now (a fired timer's, too) — unless the contact was blocklisted
        since (they wrote STOP during the delay; `recheck` False: there was no delay)."""
        if recheck and await self.blocklist.blocked(reply["org_id"], reply["to"]):
            return
        content = {k: v for k, v in reply["content"].items() if k in CONTENT_FIELDS}
        try:
            content, rendered = await self.templates.fill(reply["org_id"], reply["sender_id"], content)
        except TemplateRefused as refused:
            log.warning("auto-reply not sent", rule_id=reply["rule_id"], code=refused.code, error=refused.message)
            return
        try:
            cmd = commands.SendMessage(message_id=reply["message_id"], sender_id=reply["sender_id"], to=reply["to"],
                                       client_ref=f"{CLIENT_REF_PREFIX}{reply['rule_id']}",
                                       requested_at=self.clock(), rendered=rendered, **content)
        except ValidationError as exc:  # the personalized content broke a rule (an empty text): not sent
            log.warning("auto-reply not sent", rule_id=reply["rule_id"], error=str(exc))
            return
        await self.publisher.publish(make_envelope(id=reply["message_id"], source=SOURCE,
                                                   type=commands.SEND_MESSAGE, orgid=reply["org_id"], data=cmd,
                                                   subject=reply["message_id"]))
