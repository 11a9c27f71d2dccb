"""The HTTP face of webhook-ingest: `/webhooks/meta` (GET handshake, POST deliveries),
`/webhooks/waha`, `/healthz`, `/readyz`. Errors are JSON; nothing is published for a rejected request.
The POSTs are served by the hot path (hot_path.py) in front of the FastAPI app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from switchboard_runtime.http import errors
from switchboard_runtime.http.errors import error_body
from switchboard_runtime.telemetry import fastapi_telemetry

from .hot_path import WebhookRoutes
from .meta_webhook import MetaWebhook
from .rejection import Rejected
from .waha_webhook import WahaWebhook


@dataclass
class Webhooks:
    meta: MetaWebhook
    waha: WahaWebhook
    readiness: Callable[[], Awaitable[dict[str, bool]]]
    max_body_bytes: int
    otel_exporter: str = "none"


def create_app(hooks: Webhooks) -> WebhookRoutes:
    app = FastAPI(title="Switchboard webhook-ingest", version="0.1.0",
                  description="Provider webhooks in: Meta Cloud API and WAHA.",
                  telemetry=fastapi_telemetry(hooks.otel_exporter))
    errors.install(app)

    @app.get("/webhooks/meta", response_class=PlainTextResponse)
    async def meta_handshake(request: Request) -> Response:
        q = request.query_params
        try:
            challenge = hooks.meta.verify(q.get("hub.mode"), q.get("hub.verify_token"), q.get("hub.challenge"))
        except Rejected as exc:
            return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)
        return PlainTextResponse(challenge)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        checks = await hooks.readiness()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    return WebhookRoutes(app, {"/webhooks/meta": (hooks.meta.deliver, b"x-hub-signature-256"),
                               "/webhooks/waha": (hooks.waha.deliver, b"x-webhook-hmac")}, hooks.max_body_bytes)
