"""Contacts who write STOP (or another opt-out keyword) are blocklisted; START lifts it. Each change is
a `blocklist.added` / `blocklist.removed` event (its id derived from the inbound message's, so a
redelivered message changes nothing twice), and, when configured, the sender answers with a
confirmation (its message id derived the same way: sent at most once)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from switchboard_contracts import blocklist as contract
from switchboard_contracts import commands, message
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import deterministic_id
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery
from switchboard_runtime.messaging.publisher import Publisher

from .blocklist import Blocklist
from .domain.keywords import Keywords

SOURCE = "switchboard/campaigns"


def blocklist_event(org: str, type_: str, data: contract.BlocklistChanged, event_id: str):
    return make_envelope(id=event_id, source=SOURCE, type=type_, orgid=org, data=data, subject=data.phone)


class OptOuts:
    def __init__(self, blocklist: Blocklist, publisher: Publisher, keywords: Keywords, *,
                 out_reply: str | None = None, in_reply: str | None = None):
        self.blocklist, self.publisher, self.keywords = blocklist, publisher, keywords
        self.replies = {"out": out_reply or None, "in": in_reply or None}

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        for d in deliveries:
            try:
                ce = d.event()
                text = ce.data.get("text") if isinstance(ce.data, dict) else None
                kind = self.keywords.classify(text)
                if kind is None:
                    continue  # almost every message: nothing to do
                m = message.MessageReceived.model_validate(ce.data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"invalid inbound message: {exc}")
                continue
            now = datetime.now(UTC)
            data = contract.BlocklistChanged(phone=m.from_, reason=f"wrote {text.strip()!r}", source="keyword",
                                             keyword=text.strip(), at=now,
                                             actor={"type": "system", "id": f"opt_{kind}_keyword"})
            if kind == "out":
                await self.blocklist.add(ce.orgid, m.from_, data.reason, "keyword")
                events = [blocklist_event(ce.orgid, contract.ADDED, data, deterministic_id("optout", ce.id))]
            else:
                await self.blocklist.remove(ce.orgid, m.from_)
                events = [blocklist_event(ce.orgid, contract.REMOVED, data, deterministic_id("optin", ce.id))]
            if reply := self.replies[kind]:
                mid = deterministic_id("opt-reply", ce.id)
                cmd = commands.SendMessage(message_id=mid, sender_id=m.sender_id, to=m.from_, text=reply,
                                           client_ref=f"blocklist:{kind}", requested_at=now)
                events.append(make_envelope(id=mid, source=SOURCE, type=commands.SEND_MESSAGE, orgid=ce.orgid,
                                            data=cmd, subject=mid, correlationid=ce.correlationid,
                                            causationid=ce.id))
            await self.publisher.publish_many(events)
        return outcome
