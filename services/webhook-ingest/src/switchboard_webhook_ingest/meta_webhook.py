"""`/webhooks/meta`: the verification handshake and signed deliveries — message changes routed by
phone_number_id, template updates by WABA id (entry.id)."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime

from pydantic import ValidationError

from switchboard_contracts.sender import Provider
from switchboard_runtime.logs import get_logger

from .domain import meta
from .domain.facts import NotADelivery
from .domain.meta_delivery import Delivery, delivery_phone_number_ids, phone_number_ids
from .domain.meta_templates import normalize_templates, raw_template_wabas, template_wabas
from .domain.signatures import meta_signature_valid
from .ingest import Ingestor, Outcome
from .rejection import Rejected, reason_of
from .routes import Route, RouteTable

log = get_logger("webhook-ingest.meta")


class MetaWebhook:
    def __init__(self, routes: RouteTable, ingestor: Ingestor, verify_token: str):
        self.routes, self.ingestor, self.verify_token = routes, ingestor, verify_token

    def verify(self, mode: str | None, token: str | None, challenge: str | None) -> str:
        """The subscription handshake: the challenge back when the token is one we issued."""
        if mode != "subscribe" or not token or challenge is None:
            raise Rejected(403, "forbidden", "hub.mode=subscribe, hub.verify_token and hub.challenge are required")
        tokens = self.routes.meta_secrets("verify_token") | ({self.verify_token} if self.verify_token else set())
        # Compare against every token (no early exit) so timing says nothing about which matched.
        if not any([hmac.compare_digest(token.encode(), t.encode()) for t in tokens]):
            raise Rejected(403, "forbidden", "the verify token does not match")
        return challenge

    def _signed_by_any(self, body: bytes, signature: str) -> bool:
        return any([meta_signature_valid(s, body, signature) for s in self.routes.meta_secrets("app_secret")])

    async def deliver(self, body: bytes, signature: str | None) -> Outcome:
        if not signature or not signature.startswith("sha256="):
            raise Rejected(401, "unauthorized", "missing X-Hub-Signature-256 header")
        try:  # one pass for the common case: a well-formed delivery
            delivery, problem = Delivery.model_validate_json(body), None
            ids, wabas = delivery_phone_number_ids(delivery), template_wabas(delivery)
        except ValidationError as exc:
            delivery, problem = None, exc
            try:
                doc = json.loads(body)
            except ValueError as bad_json:
                self._bad_request_if_signed(body, signature, f"the body is not valid JSON: {bad_json}")
            ids = phone_number_ids(doc)
            if ids is None:
                self._bad_request_if_signed(body, signature, "the body is not a WhatsApp Business webhook delivery")
            wabas = raw_template_wabas(doc)
        found = {pnid: await self.routes.find(Provider.META_CLOUD, pnid) for pnid in ids}
        known = {pnid: r for pnid, r in found.items() if r is not None}
        accounts = {waba: await self.routes.of_waba(waba) for waba in wabas}
        accounts = {waba: routes for waba, routes in accounts.items() if routes}
        if not known and not accounts:
            await self.ingestor.quarantine("meta", body, _unrouted(ids, wabas))
            log.warning("delivery for unknown phone_number_id or WABA quarantined", phone_number_ids=sorted(ids),
                        wabas=sorted(wabas))
            return Outcome(quarantined=True)
        secrets = {r.secrets.get("app_secret", "") for r in known.values()}
        if known and (len(secrets) != 1 or not meta_signature_valid(secrets.pop(), body, signature)):
            raise Rejected(401, "unauthorized", "the signature does not match the app secret of the "
                                                "sender(s) this delivery is for")
        orgs = {waba: signed_orgs(routes, body, signature) for waba, routes in accounts.items()}
        if not all(orgs.values()):
            raise Rejected(401, "unauthorized", "the signature does not match the app secret of the senders of "
                                                "the WABA(s) this delivery's template updates are for")
        if delivery is None:
            raise Rejected(400, "bad_delivery", f"not a valid Meta delivery: {reason_of(problem)}")
        try:
            received_at = datetime.now(UTC)
            facts, unknown = meta.normalize(delivery, {pnid: r.ref for pnid, r in known.items()}, body, received_at)
            updates, unknown_wabas = normalize_templates(delivery, orgs, received_at)
        except (ValidationError, NotADelivery) as exc:
            raise Rejected(400, "bad_delivery", f"not a valid Meta delivery: {reason_of(exc)}") from exc
        outcome = await self.ingestor.ingest(facts + updates)
        if unknown or unknown_wabas:
            await self.ingestor.quarantine("meta", body, _unrouted(unknown, unknown_wabas))
            outcome.quarantined = True
        return outcome

    def _bad_request_if_signed(self, body: bytes, signature: str, reason: str):
        if self._signed_by_any(body, signature):
            raise Rejected(400, "bad_delivery", reason)
        raise Rejected(401, "unauthorized", "the signature matches no sender's app secret")



def signed_orgs(routes: list[Route], body: bytes, signature: str) -> list[str]:
    """The organizations whose senders of a WABA vouch for the delivery: those whose app secret
    signed it (organizations may share a WABA through different Meta apps)."""
    by_secret: dict[str, set[str]] = {}
    for r in routes:
        if r.secrets.get("app_secret"):
            by_secret.setdefault(r.secrets["app_secret"], set()).add(r.ref.org_id)
    return sorted({org for secret, orgs in by_secret.items() if meta_signature_valid(secret, body, signature)
                   for org in orgs})


def _unrouted(ids: set[str], wabas: set[str]) -> str:
    if not ids and not wabas:
        return "names no phone_number_id"
    parts = [f"no sender owns phone_number_id {sorted(ids)}"] if ids else []
    parts += [f"no sender belongs to WABA {sorted(wabas)} (template updates)"] if wabas else []
    return "; ".join(parts)
