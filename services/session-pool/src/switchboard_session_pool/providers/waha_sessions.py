"""WhatsApp Web sessions on WAHA: create or start one with our webhook (and its HMAC key), restart a
FAILED one, stop it, its status, the raw QR value to scan and a pairing code to type instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from switchboard_runtime.sealing import SealingError

from ..domain.sender import Sender
from .waha_http import WahaError, WahaHttp, json_body

WEBHOOK_EVENTS = ("message", "message.ack", "session.status")


@dataclass(frozen=True)
class SessionState:
    status: str  # STOPPED, STARTING, SCAN_QR_CODE, WORKING or FAILED
    me: str | None  # the account's chat id (`15551234567@c.us`) while WORKING
    reason: str | None = None


class WahaSessions:
    def __init__(self, http: WahaHttp):
        self.http = http

    async def start(self, sender: Sender, webhook_url: str | None = None,
                    webhook_events: Sequence[str] = WEBHOOK_EVENTS) -> SessionState:
        """Create the session (started, with our webhook and its HMAC key when given), or start it
        when it exists; a FAILED session is restarted (WAHA's start leaves a running session as is)."""
        body: dict = {"name": sender.config.get("session"), "start": True}
        if webhook_url:
            hook: dict = {"url": webhook_url, "events": list(webhook_events)}
            try:
                if hmac_key := self.http.secrets(sender).get("webhook_hmac_key"):
                    hook["hmac"] = {"key": hmac_key}
            except SealingError as exc:
                raise WahaError("credentials_unavailable", str(exc)) from exc
            body["config"] = {"webhooks": [hook]}
        try:
            return _state(await self.http.call(sender, "POST", "/api/sessions", json=body))
        except WahaError as exc:
            if exc.code not in (409, 422) or "exist" not in exc.reason.lower():
                raise
        state = _state(await self.http.call(sender, "POST", "/api/sessions/{session}/start"))
        if state.status == "FAILED":
            state = _state(await self.http.call(sender, "POST", "/api/sessions/{session}/restart"))
        return state

    async def stop(self, sender: Sender) -> SessionState:
        return _state(await self.http.call(sender, "POST", "/api/sessions/{session}/stop"))

    async def status(self, sender: Sender) -> SessionState:
        return _state(await self.http.call(sender, "GET", "/api/sessions/{session}"))

    async def qr(self, sender: Sender) -> str | None:
        """The raw QR value to show (rendered by the caller); None unless the session waits for a scan."""
        if (await self.status(sender)).status != "SCAN_QR_CODE":
            return None
        try:
            response = await self.http.call(sender, "GET", "/api/{session}/auth/qr", params={"format": "raw"})
        except WahaError as exc:
            if exc.code == 422:  # it left SCAN_QR_CODE meanwhile
                return None
            raise
        value = json_body(response).get("value")
        return value if isinstance(value, str) and value else None

    async def pairing_code(self, sender: Sender, phone_number: str) -> str:
        """A code to type on the phone (Linked devices → Link with phone number) instead of scanning."""
        digits = "".join(c for c in phone_number if c.isdigit())
        if not 7 <= len(digits) <= 15:
            raise WahaError("invalid_phone_number", "give the phone number in international format")
        response = await self.http.call(sender, "POST", "/api/{session}/auth/request-code",
                                        json={"phoneNumber": digits})
        code = json_body(response).get("code")
        if not isinstance(code, str) or not code:
            raise WahaError("no_code", "WAHA answered without a pairing code")
        return code


def _state(response: httpx.Response) -> SessionState:
    body = json_body(response)
    me = body.get("me")
    return SessionState(status=str(body.get("status") or "UNKNOWN"),
                        me=me.get("id") if isinstance(me, dict) and isinstance(me.get("id"), str) else None)
