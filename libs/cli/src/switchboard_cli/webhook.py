"""`--to-webhook`: each event POSTed, in order, as its CloudEvent JSON (the exact stored bytes), signed
the Standard Webhooks way when a `whsec_` secret is given; a non-2xx answer is retried a few times, then
the replay stops."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import httpx

PREFIX = "whsec_"
RETRY_DELAYS = (0.5, 1.0, 2.0)  # after the first attempt: four in all


class DeliveryFailed(Exception):
    def __init__(self, sequence: int, detail: str):
        super().__init__(f"sequence {sequence}: {detail}")
        self.sequence, self.detail = sequence, detail


def key_of(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except ValueError:
        raise ValueError("the part after whsec_ is not base64") from None


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def event_id(body: bytes, sequence: int) -> str:
    try:
        value = json.loads(body).get("id")
    except (ValueError, AttributeError):
        value = None
    return value if isinstance(value, str) and value else f"sequence-{sequence}"


class WebhookSink:
    def __init__(self, url: str, secret: str | None = None, *, timeout: float = 15.0,
                 delays: tuple[float, ...] = RETRY_DELAYS):
        self.url, self.key, self.delays = url, key_of(secret) if secret else None, delays
        self.http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def close(self) -> None:
        await self.http.aclose()

    async def post(self, sequence: int, body: bytes) -> None:
        msg_id = event_id(body, sequence)
        detail = ""
        for attempt in range(len(self.delays) + 1):
            if attempt:
                await asyncio.sleep(self.delays[attempt - 1])
            ts = int(time.time())
            headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(ts)}
            if self.key is not None:
                headers["webhook-signature"] = signature(self.key, msg_id, ts, body)
            try:
                response = await self.http.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                detail = repr(exc)
                continue
            if 200 <= response.status_code < 300:
                return
            detail = f"HTTP {response.status_code}"
        raise DeliveryFailed(sequence, f"{detail} after {len(self.delays) + 1} attempts")
