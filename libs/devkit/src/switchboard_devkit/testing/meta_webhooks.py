"""Signed Meta webhook deliveries, as Meta posts them to `/webhooks/meta`: `{"object":
"whatsapp_business_account", "entry": [{"id": WABA_ID, "time": <unix seconds>, "changes": [{"field",
"value"}]}]}`, with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. Template
updates name the template by its id as a number, as Meta sends it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time as clock
from typing import Any


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signed_delivery(waba_id: str, changes: list[dict], *, app_secret: str,
                    time: int | None = None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of one entry's changes for the WABA, signed with the app secret."""
    doc = {"object": "whatsapp_business_account",
           "entry": [{"id": waba_id, "time": int(clock.time()) if time is None else time, "changes": changes}]}
    body = json.dumps(doc, separators=(",", ":")).encode()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature(app_secret, body)}


def _meta_id(template_id: str | int) -> int | str:
    return int(template_id) if str(template_id).isdigit() else template_id


def template_status_delivery(waba_id: str, template_id: str | int, name: str, language: str, event: str,
                             reason: str | None = "NONE", *, app_secret: str, category: str | None = None,
                             other_info: dict | None = None, time: int | None = None) -> tuple[bytes, dict[str, str]]:
    """A `message_template_status_update`: `event` is APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED…;
    `reason` Meta's (NONE, INVALID_FORMAT, PROMOTIONAL…); `other_info` `{"title", "description"}` (PAUSED)."""
    value: dict[str, Any] = {"event": event, "message_template_id": _meta_id(template_id),
                             "message_template_name": name, "message_template_language": language, "reason": reason}
    if category is not None:
        value["message_template_category"] = category
    if other_info is not None:
        value["other_info"] = other_info
    return signed_delivery(waba_id, [{"field": "message_template_status_update", "value": value}],
                           app_secret=app_secret, time=time)


def template_quality_delivery(waba_id: str, template_id: str | int, name: str, language: str, new: str,
                              previous: str, *, app_secret: str, time: int | None = None) -> tuple[bytes, dict[str, str]]:
    """A `message_template_quality_update` (scores GREEN, YELLOW, RED, UNKNOWN)."""
    value = {"previous_quality_score": previous, "new_quality_score": new, "message_template_id": _meta_id(template_id),
             "message_template_name": name, "message_template_language": language}
    return signed_delivery(waba_id, [{"field": "message_template_quality_update", "value": value}],
                           app_secret=app_secret, time=time)
