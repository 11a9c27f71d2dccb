"""The ERP's events from `SWITCHBOARD_ERP` (consumer `conversations__notifications`): the
organization and the `<entity>.<event>` from the subject (`erp.evt.<org>.order.shipped`), the CloudEvent
from the body, decided a batch at a time in stream order (`notifications.py`). What cannot be a
notification — not a CloudEvent, a subject without an organization, no rule, no or an invalid phone, a
value the template needs missing — goes to the dead letters with the reason (after its
`notification.skipped` or `failed` where the organization is known)."""

from __future__ import annotations

from pydantic import ValidationError

from switchboard_contracts.notification import ErpEvent
from switchboard_runtime.messaging.consumer import BatchOutcome, Delivery

from .notifications import Item, Notifier


def _subject(subject: str) -> tuple[str, str] | None:
    parts = subject.split(".")
    if len(parts) != 5 or parts[:2] != ["erp", "evt"] or not all(parts[2:]):
        return None
    return parts[2], f"{parts[3]}.{parts[4]}"


class ErpIntake:
    def __init__(self, notifier: Notifier):
        self.notifier = notifier

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome, items = BatchOutcome(), []
        for d in deliveries:
            where = _subject(d.subject)
            if where is None:
                outcome.reject(d, f"not an ERP event subject (erp.evt.<org>.<entity>.<event>): {d.subject}")
                continue
            try:
                ce = ErpEvent.model_validate_json(d.data)
            except ValidationError as exc:
                outcome.reject(d, f"not a CloudEvents 1.0 JSON document: {exc.errors()[0]['msg']} "
                                  f"at {'.'.join(map(str, exc.errors()[0]['loc'])) or 'body'}")
                continue
            items.append((d, Item(*where, ce, d.stream_seq)))
        for (d, _), result in zip(items, await self.notifier.handle_many([i for _, i in items]), strict=True):
            if result.bad_input:
                outcome.reject(d, f"{result.reason}: {result.detail}")
        return outcome
