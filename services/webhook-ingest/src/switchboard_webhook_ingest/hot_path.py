"""POST /webhooks/meta and /webhooks/waha served straight from ASGI — every delivery from Meta and
WAHA comes this way, so it skips the framework's routing, dependency and middleware layers; everything
else (the verification handshake, health, docs) goes to the FastAPI app."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from switchboard_runtime.http.errors import error_body
from switchboard_runtime.logs import get_logger

from .ingest import Outcome, Unavailable
from .rejection import Rejected

log = get_logger("webhook-ingest.api")

Deliver = Callable[[bytes, str | None], Awaitable[Outcome]]
JSON_HEADERS = [(b"content-type", b"application/json")]


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
        signature = None
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                return await self._too_large(send)
            if name == signature_header:
                signature = value.decode("latin-1")
        body = await self._body(receive)
        if body is None:
            return await self._too_large(send)
        status, payload, extra = 200, b"", []
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
        await self._send(send, status, payload, extra)

    async def _body(self, receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, send) -> None:
        payload = json.dumps(error_body("payload_too_large",
                                        f"the body is larger than {self.max_body_bytes} bytes")).encode()
        await self._send(send, 413, payload)

    @staticmethod
    async def _send(send, status: int, payload: bytes, extra: list | None = None) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [*JSON_HEADERS, (b"content-length", str(len(payload)).encode()), *(extra or [])]})
        await send({"type": "http.response.body", "body": payload})
