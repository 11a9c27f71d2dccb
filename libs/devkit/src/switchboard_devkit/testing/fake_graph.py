"""A local stand-in for Meta's Graph API (WhatsApp Cloud API), reproducing the documented request and
response shapes, status codes and error bodies: a phone number's record, sends (with error injection
per recipient) and the template management API (fake_graph_templates.py). One access token is valid;
any other is refused with Meta's 401/190. Serve it with `running_fake_graph()`; its `url` is the
`api_base_url` of a Meta sender's config."""

from __future__ import annotations

import asyncio
import hashlib

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .fake_graph_errors import ERRORS, error_body
from .fake_graph_templates import FakeTemplates
from .fake_server import serving

__all__ = ["ERRORS", "FakeGraph", "error_body", "running_fake_graph"]


class FakeGraph(FakeTemplates):
    def __init__(self, token: str = "EAAB-good", display_phone_number: str = "15550001111"):
        self.token, self.display = token, display_phone_number
        self.sent: list[dict] = []  # every accepted POST body
        self.errors: dict[str, list[int]] = {}  # recipient (digits) → codes to answer, in turn
        self.slow: dict[str, float] = {}  # phone_number_id (WABA id) → seconds each send (template call) hangs
        self.blocked: set[str] = set()  # phone_number_ids Meta reports BLOCKED
        self.app = FastAPI()
        self.app.get("/{version}/{pnid}")(self.number)
        self.app.post("/{version}/{pnid}/messages")(self.messages)
        self._template_routes(self.app)

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
