"""A local stand-in for Meta's Graph API (WhatsApp Cloud API), reproducing the documented request and
response shapes, status codes and error bodies, with error injection per recipient."""

from __future__ import annotations

import asyncio
import hashlib

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .fake_server import serving

ERRORS = {
    130429: (400, "Rate limit hit", "Cloud API message throughput has been reached."),
    131026: (400, "Message undeliverable", "Unable to deliver message."),
    131047: (400, "Re-engagement message", "More than 24 hours have passed since the recipient last replied."),
    131048: (400, "Spam rate limit hit", "Message failed to send because there are restrictions on how many "
                                         "messages can be sent from this phone number."),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit", "Too many messages to this user."),
    190: (401, "Invalid OAuth access token", "Invalid OAuth access token - Cannot parse access token"),
}


def error_body(code: int) -> tuple[int, dict]:
    status, title, details = ERRORS[code]
    return status, {"error": {"message": f"({code}) {title}", "type": "OAuthException", "code": code,
                              "error_data": {"messaging_product": "whatsapp", "details": details},
                              "fbtrace_id": "AbCdEf123"}}


class FakeGraph:
    def __init__(self, token: str = "EAAB-good", display_phone_number: str = "15550001111"):
        self.token, self.display = token, display_phone_number
        self.sent: list[dict] = []  # every accepted POST body
        self.errors: dict[str, list[int]] = {}  # recipient (digits) → codes to answer, in turn
        self.slow: dict[str, float] = {}  # phone_number_id → seconds each send hangs
        self.blocked: set[str] = set()  # phone_number_ids Meta reports BLOCKED
        self.app = FastAPI()
        self.app.get("/{version}/{pnid}")(self.number)
        self.app.post("/{version}/{pnid}/messages")(self.messages)

    def _denied(self, request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            status, body = error_body(190)
            return JSONResponse(body, status_code=status)
        return None

    async def number(self, version: str, pnid: str, request: Request):
        return self._denied(request) or {"id": pnid, "display_phone_number": self.display,
                                         "verified_name": "Acme Support", "health_status": self.health(pnid)}

    def health(self, pnid: str) -> dict:
        """Meta's `health_status` (documented shape); BLOCKED for numbers listed in `blocked`."""
        if pnid not in self.blocked:
            return {"can_send_message": "AVAILABLE", "entities": [
                {"entity_type": "PHONE_NUMBER", "id": pnid, "can_send_message": "AVAILABLE"}]}
        return {"can_send_message": "BLOCKED", "entities": [
            {"entity_type": "PHONE_NUMBER", "id": pnid, "can_send_message": "BLOCKED", "errors": [
                {"error_code": 131031, "error_description": "The business phone number has been banned.",
                 "possible_solution": "Appeal the decision in WhatsApp Manager."}]}]}

    async def messages(self, version: str, pnid: str, request: Request):
        if denied := self._denied(request):
            return denied
        body = await request.json()
        if pnid in self.slow:
            await asyncio.sleep(self.slow[pnid])
        queue = self.errors.get(body["to"])
        if queue:
            status, error = error_body(queue.pop(0))
            return JSONResponse(error, status_code=status)
        self.sent.append(body)
        wamid = "wamid." + hashlib.sha256(body["biz_opaque_callback_data"].encode()).hexdigest()[:24].upper()
        return {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}]}


def running_fake_graph(**kwargs):
    return serving(FakeGraph(**kwargs))
