"""`POST /v1/messages/bulk`: one message to up to 10,000 recipients, with a result per recipient —
accepted (with its message id) or rejected (with the reason) — paced by the session-pool like any
send. With an Idempotency-Key each recipient's message id is derived from (key, position), so a
retried request sends nobody twice."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Header

from switchboard_contracts import commands
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import deterministic_id, new_id
from switchboard_runtime.http.errors import ApiError

from ..orgs import Organization
from .deps import Deps, current_org, deps
from .phone import to_e164
from .pools import senders_of
from .schemas import BulkSendRequest

router = APIRouter(tags=["messages"])
SOURCE = "switchboard/gateway"


@router.post("/v1/messages/bulk", status_code=202)
async def send_bulk(body: BulkSendRequest, org: Organization = Depends(current_org), d: Deps = Depends(deps),
                    idempotency_key: str | None = Header(default=None)):
    sender_id, pool = await senders_of(body, org.id, d.queries)
    now = datetime.now(UTC)
    results, envelopes, seen = [], [], set()
    for i, r in enumerate(body.recipients):
        try:
            to = to_e164(r.to, f"recipients.{i}.to", d.settings.default_region)
        except ApiError as exc:
            reason = (exc.details.get("fields") or [{}])[0].get("message") or exc.message
            results.append({"index": i, "to": r.to, "status": "rejected", "reason": reason})
            continue
        if to in seen:
            results.append({"index": i, "to": to, "status": "rejected", "reason": "duplicate recipient"})
            continue
        seen.add(to)
        mid = deterministic_id(org.id, "bulk", idempotency_key, i) if idempotency_key else new_id()
        cmd = commands.SendMessage(message_id=mid, sender_id=sender_id, pool=pool, to=to, type=body.type,
                                   text=body.text, template=body.template, media=body.media,
                                   interactive=body.interactive, reply_to=body.reply_to,
                                   client_ref=r.client_ref, requested_at=now, ttl_seconds=body.ttl_seconds)
        envelopes.append(make_envelope(id=mid, source=SOURCE, type=commands.SEND_MESSAGE, orgid=org.id,
                                       data=cmd, subject=mid))
        results.append({"index": i, "to": to, "status": "accepted", "id": mid})
    if envelopes:
        try:
            await d.bus.publisher.publish_many(envelopes)
        except Exception as exc:  # noqa: BLE001 - nothing was promised yet: the client retries (same key)
            raise ApiError(503, "unavailable", "the message bus is not available; retry with the same "
                                               "Idempotency-Key") from exc
    accepted = sum(1 for r in results if r["status"] == "accepted")
    return {"accepted": accepted, "rejected": len(results) - accepted, "results": results}
