"""ERP order notifications: each ERP event (a CloudEvent, from `erp.evt.<org>.…` or `POST
/v1/notifications`) → at most one template message. A batch of events is decided in one transaction,
in stream order, with a handful of set-based statements, each with its outcome event
(`notification.sent|failed|skipped`, through the outbox).

- Exactly once: the message id derives from the CloudEvent's `source` + `id`, and a row per event
  (`notifications`) makes a republished event a `duplicate` (a redelivery of the same stream message
  changes nothing at all).
- Never backwards: an event for an order already past its stage (`order_progress`) is `out_of_order`.
- A number on the blocklist is `opted_out`; a template that is not APPROVED is `template_not_approved`.
- Bad input — no rule (`no_rule`), no or an invalid `customer_phone` (`invalid_phone`), values the
  template needs missing — is recorded and answered (a dead letter, a 422), and its event may come again
  once the cause is fixed: only what was decided for good (sent, opted out, out of order) stays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import commands, notification as contract
from switchboard_contracts.commands import SenderPool
from switchboard_contracts.content import Template
from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.envelope import encode_envelope
from switchboard_contracts.ids import deterministic_id
from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.phone import to_e164

from .domain.notification_rules import MissingValue, holds, language_for, stage_of, values
from .notification_rules import NotificationRules
from .notification_rows import ADVANCE, BLOCKED, CLAIM, DECIDED, EARLIER, RELEASE, STAGES
from .sends import SOURCE, Sends
from .template_sends import TemplateSends

KEPT = ("sent", "opted_out", "out_of_order")  # decided for good; anything else may come again
BAD_INPUT = ("no_rule", "invalid_phone", "missing_value")


@dataclass
class Outcome:
    status: str  # sent, failed, skipped; "" for a redelivery that changes nothing
    reason: str | None = None
    detail: str | None = None
    message_id: str | None = None
    data: dict = field(default_factory=dict)

    @property
    def bad_input(self) -> bool:
        return self.reason in BAD_INPUT

    def answer(self) -> dict:
        return {"status": self.status, "reason": self.reason, "detail": self.detail, "message_id": self.message_id,
                "order_id": self.data.get("order_id")}


@dataclass
class Item:
    org: str
    event: str  # `<entity>.<event>`
    ce: contract.ErpEvent
    seq: int | None = None  # its stream sequence, when it came from NATS
    outcome: Outcome | None = None
    command: commands.SendMessage | None = None
    stage: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.org, self.ce.source, self.ce.id


class Notifier:
    def __init__(self, engine: AsyncEngine, rules: NotificationRules, directory, sends: Sends,
                 template_sends: TemplateSends, default_region: str | None):
        self.engine, self.rules, self.directory = engine, rules, directory
        self.sends, self.template_sends, self.region = sends, template_sends, default_region

    async def handle(self, org: str, event: str, ce: contract.ErpEvent, seq: int | None = None) -> Outcome:
        return (await self.handle_many([Item(org, event, ce, seq)]))[0]

    async def handle_many(self, items: list[Item]) -> list[Outcome]:
        """Decide the items, in their order, in one transaction; each gets its outcome."""
        async with self.engine.begin() as conn:
            fresh = await self._claim(conn, items)
            rules = await self.rules.for_events(conn, {(i.org, i.event) for i in fresh})
            templates: dict = {}  # the batch's template lookups
            for i in fresh:
                await self._decide(i, rules.get((i.org, i.event), []), templates)
            await self._opt_outs(conn, [i for i in fresh if i.command is not None])
            await self._stages(conn, [i for i in fresh if i.command is not None and i.stage is not None])
            started = await self._record(conn, [i for i in items if i.outcome and i.outcome.status])
        if any(i.outcome and i.outcome.status for i in items):
            self.sends.committed(True, started)
        return [i.outcome for i in items]

    async def _claim(self, conn, items: list[Item]) -> list[Item]:
        """The items that are new (their rows claimed); the others are duplicates or redeliveries."""
        first: dict[tuple, Item] = {}
        for i in items:
            first.setdefault(i.key, i)
        rows = list(first.values())
        claimed = {tuple(r) for r in await conn.execute(CLAIM, {
            "orgs": [i.org for i in rows], "sources": [i.ce.source for i in rows], "ids": [i.ce.id for i in rows],
            "events": [i.event for i in rows], "orders": [_order(i.ce) for i in rows], "seqs": [i.seq for i in rows]})}
        earlier = {}
        if len(claimed) < len(rows):
            missing = [i for i in rows if i.key not in claimed]
            earlier = {(r.org_id, r.erp_source, r.erp_event_id): r.erp_seq for r in await conn.execute(EARLIER, {
                "orgs": [i.org for i in missing], "sources": [i.ce.source for i in missing],
                "ids": [i.ce.id for i in missing]})}
        fresh = []
        for i in items:
            if first[i.key] is i and i.key in claimed:
                fresh.append(i)
            elif first[i.key] is i and i.seq is not None and earlier.get(i.key) == i.seq:
                i.outcome = Outcome("")  # the same stream message again (a crash before its ack)
            else:
                i.outcome = _skip(_base(i), "duplicate", "the event was received before")
        return fresh

    async def _decide(self, i: Item, rules: list, templates: dict) -> None:
        base, doc = _base(i), i.ce.model_dump(mode="json")
        rule = next((r for r in rules if holds(r.condition, doc)), None)
        if rule is None:
            i.outcome = _skip(base, "no_rule", f"no enabled notification rule for {i.event} applies")
            return
        base.rule_id = rule.id
        phone = i.ce.data.get("customer_phone")
        try:
            if not isinstance(phone, str) or not phone.strip():
                raise ApiError(422, "validation_error", "data.customer_phone is missing")
            base.contact = to_e164(phone, "data.customer_phone", self.region)
        except ApiError as exc:
            i.outcome = _skip(base, "invalid_phone", exc.message)
            return
        language = language_for(rule.template, i.ce.data.get("locale"))
        base.template = {"name": rule.template["name"], "language": language}
        try:
            given = values(rule.parameters or {}, doc)
            template = Template(name=rule.template["name"], language=language, parameters=given or None)
            prepared = await self.template_sends.prepare(i.org, rule.sender_id, template, templates)
        except MissingValue as exc:
            i.outcome = _fail(base, "missing_value", str(exc))
            return
        except ApiError as exc:
            i.outcome = (_skip(base, "template_not_approved", exc.message)
                         if exc.code in ("template_not_found", "template_not_approved")
                         else _fail(base, exc.code, exc.message))
            return
        except ValueError as exc:  # a value the template cannot take (too long, say)
            i.outcome = _fail(base, "invalid_value", str(exc)[:500])
            return
        mid = contract.notification_message_id(i.org, i.ce.source, i.ce.id)
        base.message_id, base.sender_id = mid, rule.sender_id
        if rule.sender_id:
            base.conversation_id = conversation_id(i.org, rule.sender_id, base.contact)
        i.stage = stage_of(i.event, rule.stage) if base.order_id else None
        i.command = commands.SendMessage(
            message_id=mid, sender_id=rule.sender_id, pool=SenderPool(label=rule.sender_pool) if rule.sender_pool
            else None, to=base.contact, type="template", template=prepared.template if prepared else template,
            rendered=prepared.rendered if prepared else None, client_ref=f"{i.event}:{base.order_id or i.ce.id}"[:256],
            requested_at=datetime.now(UTC), actor={"type": "system", "id": f"notification_rule:{rule.id}"})
        i.outcome = Outcome("sent", message_id=mid, data=base.model_dump(mode="json"))

    async def _opt_outs(self, conn, sending: list[Item]) -> None:
        if not sending:
            return
        blocked = {tuple(r) for r in await conn.execute(BLOCKED, {"orgs": [i.org for i in sending],
                                                                  "phones": [i.command.to for i in sending]})}
        for i in sending:
            if (i.org, i.command.to) in blocked:
                self._unsend(i, "opted_out", "the number is on the blocklist")

    async def _stages(self, conn, staged: list[Item]) -> None:
        """In stream order: an event for an order already past its stage is out of order; the others
        move the order on."""
        if not staged:
            return
        pairs = sorted({(i.org, _order(i.ce)) for i in staged})
        reached = {(r.org_id, r.order_id): r.stage for r in await conn.execute(STAGES, {
            "orgs": [p[0] for p in pairs], "orders": [p[1] for p in pairs]})}
        moved = {}
        for i in staged:
            at = (i.org, _order(i.ce))
            if reached.get(at) is not None and reached[at] > i.stage:
                self._unsend(i, "out_of_order", f"the order is past {i.event} already")
            else:
                reached[at] = max(reached.get(at) or 0, i.stage)
                if at not in moved or i.stage >= moved[at][0]:
                    moved[at] = (i.stage, i.event)
        if moved:
            await conn.execute(ADVANCE, {"orgs": [k[0] for k in moved], "orders": [k[1] for k in moved],
                                         "stages": [v[0] for v in moved.values()],
                                         "events": [v[1] for v in moved.values()]})

    @staticmethod
    def _unsend(i: Item, reason: str, detail: str) -> None:
        data = {**i.outcome.data, "message_id": None, "conversation_id": None, "reason": reason, "detail": detail}
        i.command, i.outcome = None, Outcome("skipped", reason, detail, data=data)

    async def _record(self, conn, decided: list[Item]) -> bool:
        """The messages and outcome events into the outbox; each event's row kept or let go."""
        kept = [i for i in decided if i.outcome.status == "sent" or i.outcome.reason in KEPT]
        let_go = [i for i in decided if not (i.outcome.status == "sent" or i.outcome.reason in KEPT)
                  and i.outcome.reason != "duplicate"]
        if kept:
            await conn.execute(DECIDED, {
                "orgs": [i.org for i in kept], "sources": [i.ce.source for i in kept], "ids": [i.ce.id for i in kept],
                "outcomes": [i.outcome.status for i in kept], "reasons": [i.outcome.reason for i in kept],
                "mids": [i.outcome.message_id for i in kept], "rules": [i.outcome.data.get("rule_id") for i in kept]})
        if let_go:
            await conn.execute(RELEASE, {"orgs": [i.org for i in let_go], "sources": [i.ce.source for i in let_go],
                                         "ids": [i.ce.id for i in let_go]})
        sends = [(i.org, i.command, i.ce.id) for i in decided if i.command is not None]
        return await self.sends.record_batch(conn, sends, [_envelope(i) for i in decided])


def _envelope(i: Item):
    o = i.outcome
    type_ = {"sent": contract.SENT, "failed": contract.FAILED, "skipped": contract.SKIPPED}[o.status]
    nth = i.seq if i.seq is not None else datetime.now(UTC).isoformat()
    event_id = deterministic_id(i.org, "notification", i.ce.source, i.ce.id, o.status, o.reason, nth)
    return encode_envelope(id=event_id, source=SOURCE, type=type_, orgid=i.org,
                           data=contract.NotificationOutcome.model_validate(o.data),
                           subject=o.data.get("order_id") or i.ce.id, correlationid=i.ce.id)


def _base(i: Item) -> contract.NotificationOutcome:
    return contract.NotificationOutcome(event=i.event, erp_event_id=i.ce.id, erp_source=i.ce.source,
                                        order_id=_order(i.ce), at=datetime.now(UTC))


def _skip(base, reason: str, detail: str) -> Outcome:
    return Outcome("skipped", reason, detail, data=base.model_copy(update={"reason": reason, "detail": detail})
                   .model_dump(mode="json"))


def _fail(base, reason: str, detail: str) -> Outcome:
    return Outcome("failed", reason, detail, data=base.model_copy(update={"reason": reason, "detail": detail})
                   .model_dump(mode="json"))


def _order(ce: contract.ErpEvent) -> str | None:
    value = ce.data.get("order_id")
    if value is None or isinstance(value, (dict, list)):
        return None
    out = str(value)
    return out if out and "\x00" not in out else None
