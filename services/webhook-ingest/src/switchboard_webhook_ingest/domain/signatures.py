"""Webhook signatures, compared in constant time."""

from __future__ import annotations

import hmac


def meta_signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.digest(app_secret.encode(), body, "sha256").hex()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def waha_signature_valid(key: str, body: bytes, header: str | None) -> bool:
    """`X-Webhook-Hmac: <hex HMAC-SHA512(key, raw body)>`."""
    if not header:
        return False
    expected = hmac.digest(key.encode(), body, "sha512").hex()
    return hmac.compare_digest(expected, header.strip().lower())
