"""The events the flows service learns templates and senders from, published as their services publish them
(a Meta sender's `sender.registered` from the session-pool; `template.*` from the conversations service and
webhook-ingest), each call returning once `flows__templates` has handled it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from switchboard_contracts import sender, streams, template
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id

WABA = "102290129340398"
T0 = datetime(2026, 11, 30, 9, tzinfo=UTC)
ORDER_SHIPPED = [  # Meta's definition, as the README's example creates it
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Ana", "A-1"]]}},
    {"type": "FOOTER", "text": "Acme Shop"},
    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://acme.example/t/{{1}}",
                                     "example": ["https://acme.example/t/A-1"]}]}]


async def publish(js, org: str, data, type_: str) -> int:
    """An event on `sb.evt.<org>.<entity>.<event>`, as a CloudEvent; its stream sequence."""
    ce = make_envelope(id=new_id(), source="test", type=type_, orgid=org, data=data)
    entity_event = ".".join(type_.split(".")[1:3])
    ack = await js.publish(f"sb.evt.{org}.{entity_event}", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})
    return ack.seq


async def caught_up(js, seq: int, timeout: float = 15.0) -> None:
    """Until flows__templates has handled (acked) everything up to the stream sequence `seq`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        info = await js.consumer_info(streams.EVENTS.name, streams.FLOWS_TEMPLATES.durable)
        if info.ack_floor.stream_seq >= seq and not info.num_ack_pending:
            return
        assert asyncio.get_running_loop().time() < deadline, f"flows__templates stuck before {seq}: {info}"
        await asyncio.sleep(0.05)


async def registered(js, org: str, sender_id: str, provider: str = "meta-cloud", waba_id: str | None = WABA) -> None:
    """The session-pool's `sender.registered` (a Meta sender with its business account)."""
    meta = provider == "meta-cloud"
    await caught_up(js, await publish(js, org, sender.SenderRegistered(
        sender_id=sender_id, name="shop", provider=provider, quotas={}, registered_at=T0,
        waba_id=waba_id if meta else None, phone_number_id="1093" if meta else None), sender.REGISTERED))


class Templates:
    """One account's templates as the conversations service (its aggregate's events) and webhook-ingest
    (Meta's reports) publish them."""

    def __init__(self, js, org: str, waba_id: str = WABA):
        self.js, self.org, self.waba_id = js, org, waba_id
        self.ids: dict[tuple[str, str], str] = {}
        self.clock = 0

    def at(self) -> datetime:
        """A time after every one before (as the publishers' clocks run)."""
        self.clock += 10
        return T0 + timedelta(seconds=self.clock)

    async def created(self, name: str, components: list[dict], language: str = "en_US", status: str = "DRAFT",
                      parameter_format: str = "POSITIONAL") -> None:
        tid = self.ids.setdefault((name, language), new_id())
        await caught_up(self.js, await publish(self.js, self.org, template.TemplateDefined(
            template_id=tid, version=1, at=self.at(), actor={"type": "api_key", "id": "key-1"}, waba_id=self.waba_id,
            name=name, language=language, sender_id="s", category="UTILITY", parameter_format=parameter_format,
            components=components, status=status), template.CREATED))

    async def submitted(self, name: str, language: str = "en_US") -> None:
        await caught_up(self.js, await publish(self.js, self.org, template.TemplateSubmitted(
            template_id=self.ids[(name, language)], version=2, at=self.at(), actor={"type": "api_key", "id": "key-1"},
            waba_id=self.waba_id, name=name, language=language, meta_template_id=f"meta-{name}", status="PENDING",
            category="UTILITY"), template.SUBMITTED))

    async def meta_reports(self, name: str, status: str, language: str = "en_US", at: datetime | None = None) -> None:
        """Meta's `template.status_changed` as webhook-ingest publishes it (no template id of ours)."""
        await caught_up(self.js, await publish(self.js, self.org, template.TemplateStatusChanged(
            waba_id=self.waba_id, message_template_id=f"meta-{name}", message_template_name=name,
            message_template_language=language, event=status, at=at or self.at()), template.STATUS_CHANGED))
