"""Verify a Switchboard webhook (the Standard Webhooks signature), with the standard library only.

`secret` is the endpoint's `whsec_…` (shown once, when it was created or rotated); `headers` and `body`
are the request's, the body exactly as received (bytes, before any JSON parsing)."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

TOLERANCE_SECONDS = 5 * 60


class InvalidWebhook(Exception):
    pass


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> dict:
    """The CloudEvent, if the request is signed with `secret` and recent; InvalidWebhook otherwise."""
    h = {name.lower(): value for name, value in headers.items()}
    try:
        msg_id, timestamp, signatures = h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"]
        sent_at = int(timestamp)
    except (KeyError, ValueError) as exc:
        raise InvalidWebhook("missing or malformed webhook headers") from exc
    if abs((time.time() if now is None else now) - sent_at) > TOLERANCE_SECONDS:
        raise InvalidWebhook("timestamp too far from now (a replayed request?)")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    for signature in signatures.split(" "):  # two during a secret rotation: either may match
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(body)
    raise InvalidWebhook("no signature matches this secret")
