"""ERP order notifications. Another team's ERP publishes its order events as CloudEvents on
`erp.evt.<orgid>.<entity>.<event>` (e.g. `erp.evt.<org>.order.shipped`; stream `SWITCHBOARD_ERP`, which
drops a repeat of the same `Nats-Msg-Id` — set it to the CloudEvent `id` — within its duplicate window)
or posts them to `POST /v1/notifications`. `data`: `order_id`, `customer_phone`, `customer_name`,
`locale`, and any other fields the organization's notification rules read.

What became of each (v1), with the order id and the CloudEvent it answers: `notification.sent` (a
template message was queued: its `message_id`; the message's statuses carry the CloudEvent id as their
`correlationid`), `notification.failed` (it could not be sent: `reason`), `notification.skipped` (nothing
was sent, on purpose: `reason` — `duplicate`, `out_of_order`, `opted_out`, `template_not_approved`,
`no_rule`, `invalid_phone`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .envelope import event_type
from .ids import deterministic_id

ENTITY = "notification"
SENT = event_type(ENTITY, "sent")
FAILED = event_type(ENTITY, "failed")
SKIPPED = event_type(ENTITY, "skipped")
SkipReason = Literal["duplicate", "out_of_order", "opted_out", "template_not_approved", "no_rule", "invalid_phone"]
ORDER_STAGES = {"order.confirmed": 1, "order.shipped": 2, "order.delivered": 3, "order.cancelled": 3}


def erp_subject(orgid: str, entity: str, name: str) -> str:
    return f"erp.evt.{orgid}.{entity}.{name}"


def notification_message_id(orgid: str, source: str, event_id: str) -> str:
    """The one message an ERP event may cause: the same for every repeat of it."""
    return deterministic_id(orgid, "notification", source, event_id)


class ErpEvent(BaseModel):
    """A CloudEvents 1.0 document from an ERP (structured mode). Extension attributes are kept."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=512)
    source: str = Field(min_length=1, max_length=1024)
    type: str = Field(min_length=1, max_length=512)
    time: datetime | None = None
    subject: str | None = Field(default=None, max_length=1024)
    datacontenttype: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class NotificationOutcome(BaseModel):
    """What became of one ERP event."""

    event: str  # `<entity>.<event>`, e.g. `order.shipped`
    erp_event_id: str  # the CloudEvent's `id`
    erp_source: str  # its `source`
    order_id: str | None = None
    rule_id: str | None = None
    message_id: str | None = None
    conversation_id: str | None = None
    sender_id: str | None = None
    contact: str | None = None
    template: dict[str, str] | None = None  # {"name", "language"}
    reason: str | None = None  # skipped: one of SkipReason; failed: what went wrong
    detail: str | None = None
    at: datetime
