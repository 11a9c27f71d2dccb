"""ERP order notifications: one ERP event (a CloudEvent, from `erp.evt.<org>.…` or `POST
/v1/notifications`) → at most one template message, decided and recorded in one transaction with its
outcome event (`notification.sent|failed|skipped`, through the outbox).

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

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import commands, notification as contract
from switchboard_contracts.commands import SenderPool
from switchboard_contracts.content import Template
from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.envelope import encode_envelope
from switchboard_contracts.ids import deterministic_id
from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.phone import to_e164

from .directory import Directory
from .domain.notification_rules import MissingValue, holds, language_for, stage_of, values
from .notification_rules import NotificationRules
from .sends import SOURCE, Sends
from .tables import SCHEMA
from .template_sends import TemplateSends

N, PROGRESS = f"{SCHEMA}.notifications", f"{SCHEMA}.order_progress"
CLAIM = text(f"""INSERT INTO {N} (org_id, erp_source, erp_event_id, event, order_id, outcome, erp_seq)
                 VALUES (:org, :source, :id, :event, :order, 'pending', :seq) ON CONFLICT DO NOTHING RETURNING 1""")
EARLIER = text(f"SELECT outcome, erp_seq FROM {N} WHERE org_id = :org AND erp_source = :source AND erp_event_id = :id")
DECIDED = text(f"""UPDATE {N} SET outcome = :outcome, reason = :reason, message_id = :mid, rule_id = :rule, at = now()
                   WHERE org_id = :org AND erp_source = :source AND erp_event_id = :id""")
RELEASE = text(f"DELETE FROM {N} WHERE org_id = :org AND erp_source = :source AND erp_event_id = :id")
STAGE = text(f"SELECT stage FROM {PROGRESS} WHERE org_id = :org AND order_id = :order FOR UPDATE")
ADVANCE = text(f"""INSERT INTO {PROGRESS} (org_id, order_id, stage, event) VALUES (:org, :order, :stage, :event)
                   ON CONFLICT (org_id, order_id) DO UPDATE SET stage = GREATEST({PROGRESS}.stage, excluded.stage),
                   event = CASE WHEN excluded.stage >= {PROGRESS}.stage THEN excluded.event ELSE {PROGRESS}.event END,
                   at = now()""")
KEPT = ("sent", "opted_out", "out_of_order")  # decided for good; anything else may come again
BAD_INPUT = ("no_rule", "invalid_phone")


@dataclass
class Outcome:
    status: str  # sent, failed, skipped; "" for a redelivery that changes nothing
    reason: str | None = None
    detail: str | None = None
    message_id: str | None = None
    data: dict = field(default_factory=dict)

    @property
    def bad_input(self) -> bool:
        return self.reason in BAD_INPUT or self.reason == "missing_value"

    def answer(self) -> dict:
        return {"status": self.status, "reason": self.reason, "detail": self.detail, "message_id": self.message_id,
                "order_id": self.data.get("order_id")}


class Notifier:
    def __init__(self, engine: AsyncEngine, rules: NotificationRules, directory: Directory, sends: Sends,
                 template_sends: TemplateSends, default_region: str | None):
        self.engine, self.rules, self.directory = engine, rules, directory
        self.sends, self.template_sends, self.region = sends, template_sends, default_region

    async def handle(self, org: str, event: str, ce: contract.ErpEvent, seq: int | None = None) -> Outcome:
        """Decide one ERP event (`event`: `<entity>.<event>`); `seq`: its stream sequence, if from NATS."""
        doc = ce.model_dump(mode="json")
        order_id = _text(ce.data.get("order_id"))
        key = {"org": org, "source": ce.source, "id": ce.id}
        base = contract.NotificationOutcome(event=event, erp_event_id=ce.id, erp_source=ce.source, order_id=order_id,
                                            at=datetime.now(UTC))
        started = False
        async with self.engine.begin() as conn:
            if (await conn.execute(CLAIM, {**key, "event": event, "order": order_id, "seq": seq})).first() is None:
                earlier = (await conn.execute(EARLIER, key)).first()
                if seq is not None and earlier is not None and earlier.erp_seq == seq:
                    return Outcome("")  # the same stream message again (a crash before its ack)
                outcome, out = self._skip(base, "duplicate", "the event was received before"), None
                await self._record(conn, org, outcome, out, key, seq, keep=False)
                return outcome
            outcome, cmd = await self._decide(conn, org, event, ce, doc, base)
            started = await self._record(conn, org, outcome, cmd, key, seq, keep=outcome.reason in KEPT
                                         or outcome.status == "sent")
        self.sends.committed(True, started)
        return outcome

    async def _decide(self, conn, org, event, ce, doc, base):
        rule = next((r for r in await self.rules.for_event(conn, org, event) if holds(r.condition, doc)), None)
        if rule is None:
            return self._skip(base, "no_rule", f"no enabled notification rule for {event} applies"), None
        base.rule_id = rule.id
        phone = ce.data.get("customer_phone")
        try:
            if not isinstance(phone, str) or not phone.strip():
                raise ApiError(422, "validation_error", "data.customer_phone is missing")
            to = to_e164(phone, "data.customer_phone", self.region)
        except ApiError as exc:
            return self._skip(base, "invalid_phone", exc.message), None
        base.contact = to
        if await self.directory.blocked(conn, org, to):
            return self._skip(base, "opted_out", "the number is on the blocklist"), None
        stage = stage_of(event, rule.stage)
        if stage is not None and base.order_id:
            reached = (await conn.execute(STAGE, {"org": org, "order": base.order_id})).scalar()
            if reached is not None and reached > stage:
                return self._skip(base, "out_of_order", f"the order is past {event} already"), None
        language = language_for(rule.template, ce.data.get("locale"))
        base.template = {"name": rule.template["name"], "language": language}
        try:
            given = values(rule.parameters or {}, doc)
            template = Template(name=rule.template["name"], language=language, parameters=given or None)
            prepared = await self.template_sends.prepare(org, rule.sender_id, template)
        except MissingValue as exc:
            return self._fail(base, "missing_value", str(exc)), None
        except ApiError as exc:
            if exc.code in ("template_not_found", "template_not_approved"):
                return self._skip(base, "template_not_approved", exc.message), None
            return self._fail(base, exc.code, exc.message), None
        except ValueError as exc:  # a value the template cannot take (too long, say)
            return self._fail(base, "invalid_value", str(exc)[:500]), None
        mid = contract.notification_message_id(org, ce.source, ce.id)
        base.message_id, base.sender_id = mid, rule.sender_id
        if rule.sender_id:
            base.conversation_id = conversation_id(org, rule.sender_id, to)
        cmd = commands.SendMessage(
            message_id=mid, sender_id=rule.sender_id, pool=SenderPool(label=rule.sender_pool) if rule.sender_pool
            else None, to=to, type="template", template=prepared.template if prepared else template,
            rendered=prepared.rendered if prepared else None, client_ref=f"{event}:{base.order_id or ce.id}"[:256],
            requested_at=datetime.now(UTC), actor={"type": "system", "id": f"notification_rule:{rule.id}"})
        if stage is not None and base.order_id:
            await conn.execute(ADVANCE, {"org": org, "order": base.order_id, "stage": stage, "event": event})
        return Outcome("sent", message_id=mid, data=base.model_dump(mode="json")), cmd

    def _skip(self, base, reason: str, detail: str) -> Outcome:
        return Outcome("skipped", reason, detail, data=base.model_copy(update={"reason": reason, "detail": detail})
                       .model_dump(mode="json"))

    def _fail(self, base, reason: str, detail: str) -> Outcome:
        return Outcome("failed", reason, detail, data=base.model_copy(update={"reason": reason, "detail": detail})
                       .model_dump(mode="json"))

    async def _record(self, conn, org, outcome: Outcome, cmd, key, seq, keep: bool) -> bool:
        """The outcome event (and the message) into the outbox; the event's row kept or let go."""
        type_ = {"sent": contract.SENT, "failed": contract.FAILED, "skipped": contract.SKIPPED}[outcome.status]
        nth = seq if seq is not None else datetime.now(UTC).isoformat()
        event_id = deterministic_id(org, "notification", key["source"], key["id"], outcome.status, outcome.reason, nth)
        envelope = encode_envelope(id=event_id, source=SOURCE, type=type_, orgid=org,
                                   data=contract.NotificationOutcome.model_validate(outcome.data),
                                   subject=outcome.data.get("order_id") or key["id"], correlationid=key["id"])
        if keep:
            await conn.execute(DECIDED, {**key, "outcome": outcome.status, "reason": outcome.reason,
                                         "mid": outcome.message_id, "rule": outcome.data.get("rule_id")})
        elif outcome.reason != "duplicate":
            await conn.execute(RELEASE, key)
        return await self.sends.record_in(conn, org, [cmd] if cmd else [], correlationid=key["id"], events=[envelope])


def _text(value) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    out = str(value)
    return out if out and "\x00" not in out else None
