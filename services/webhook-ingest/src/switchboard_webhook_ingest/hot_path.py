"""POST /webhooks/meta and /webhooks/waha served straight from ASGI — every delivery from Meta and
WAHA comes this way, so it skips the framework's routing, dependency and middleware layers; everything
else (the verification handshake, health, docs) goes to the FastAPI app."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from switchboard_runtime.http.body_limit import TOO_LARGE, declared_too_large, read_body, reject_too_large, send_json
from switchboard_runtime.http.errors import error_body
from switchboard_runtime.logs import get_logger

from .ingest import Outcome, Unavailable
from .rejection import Rejected

log = get_logger("webhook-ingest.api")

Deliver = Callable[[bytes, str | None], Awaitable[Outcome]]


class WebhookRoutes:
    def __init__(self, app, routes: dict[str, tuple[Deliver, bytes]], max_body_bytes: int):
        self.app = app
        self.routes = routes  # path → (deliver, the signature header's name, lower-case)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        route = self.routes.get(scope.get("path")) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is None:
            return await self.app(scope, receive, send)
        deliver, signature_header = route
        if declared_too_large(scope, self.max_body_bytes):
            return await reject_too_large(send, self.max_body_bytes)
        signature = next((v.decode("latin-1") for n, v in scope["headers"] if n == signature_header), None)
        body = await read_body(receive, self.max_body_bytes)
        if body is None:
            return None  # the provider hung up: it will retry
        if body is TOO_LARGE:
            return await reject_too_large(send, self.max_body_bytes)
        status, extra = 200, []
        try:
            payload = json.dumps((await deliver(body, signature)).body()).encode()
        except Rejected as exc:
            log.info("webhook rejected", status=exc.status, code=exc.code, reason=exc.message)
            status, payload = exc.status, json.dumps(error_body(exc.code, exc.message)).encode()
        except Unavailable as exc:
            log.warning("delivery not stored; asking the provider to retry", error=str(exc))
            status, extra = 503, [(b"retry-after", b"5")]
            payload = json.dumps(error_body("unavailable", "events could not be stored; retry later")).encode()
        except Exception as exc:  # noqa: BLE001 - answer JSON, never a bare 500
            log.error("unhandled error", error=repr(exc), exc_info=exc)
            status = 500
            payload = json.dumps(error_body("internal_error", "an unexpected error occurred")).encode()
        await send_json(send, status, payload, extra)
