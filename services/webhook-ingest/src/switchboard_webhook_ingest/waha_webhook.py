"""`/webhooks/waha`: WAHA events, routed by session, HMAC-checked when the sender has a key."""

from __future__ import annotations

from pydantic import ValidationError

from switchboard_contracts.sender import Provider
from switchboard_runtime.logs import get_logger

from .domain import waha
from .domain.facts import NotADelivery
from .domain.signatures import waha_signature_valid
from .ingest import Ingestor, Outcome
from .rejection import Rejected, reason_of
from .routes import RouteTable

log = get_logger("webhook-ingest.waha")


class WahaWebhook:
    def __init__(self, routes: RouteTable, ingestor: Ingestor):
        self.routes, self.ingestor = routes, ingestor

    async def deliver(self, body: bytes, signature: str | None) -> Outcome:
        try:
            envelope = waha.Envelope.model_validate_json(body)
        except ValidationError as exc:
            raise Rejected(400, "bad_delivery", f"not a WAHA webhook event: {reason_of(exc)}") from exc
        route = await self.routes.find(Provider.WAHA, envelope.session)
        if route is None:
            await self.ingestor.quarantine("waha", body, f"no sender owns WAHA session {envelope.session!r}")
            log.warning("event for unknown WAHA session quarantined", session=envelope.session)
            return Outcome(quarantined=True)
        key = route.secrets.get("webhook_hmac_key")
        if key and not waha_signature_valid(key, body, signature):
            raise Rejected(401, "unauthorized", "missing or wrong X-Webhook-Hmac")
        try:
            facts = waha.normalize(envelope, route.ref)
        except (ValidationError, NotADelivery) as exc:
            raise Rejected(400, "bad_delivery", f"not a valid WAHA {envelope.event} event: {reason_of(exc)}") from exc
        return await self.ingestor.ingest(facts)
