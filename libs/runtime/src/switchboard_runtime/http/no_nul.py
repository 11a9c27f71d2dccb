"""A pure ASGI middleware: a request whose path or query, or a JSON body whose strings, hold NUL
(`%00`, `\\u0000`) gets a 422 naming where before the app sees it — PostgreSQL cannot store NUL, so such a value would fail deep
inside (a command retried, a 500), and the OpenAPI document says strings never hold it. Only bodies
that contain the escape are parsed; streamed bodies (uploads) are passed through."""

from __future__ import annotations

import json
from typing import Any

from .body_limit import read_body, replaying, send_json
from .errors import error_body


def nul_fields(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in nul_fields(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in nul_fields(v, f"{path}.{i}" if path else str(i))]
    return []


class RefuseNul:
    def __init__(self, app, max_bytes: int, streamed=lambda scope: False):
        self.app, self.max_bytes, self.streamed = app, max_bytes, streamed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            return await _refuse(send, ["path" if "\x00" in scope.get("path", "") else "query"])
        if scope.get("method") not in ("POST", "PUT", "PATCH") or self.streamed(scope):
            return await self.app(scope, receive, send)
        body = await read_body(receive, self.max_bytes)
        if not isinstance(body, bytes):  # gone, or too large (the body limit outside answers that)
            return None
        if b"\\u0000" in body:
            try:
                fields = nul_fields(json.loads(body))
            except ValueError:
                fields = []  # not JSON: the app answers that
            if fields:
                return await _refuse(send, fields)
        return await self.app(scope, replaying(body, receive), send)


async def _refuse(send, fields: list[str]) -> None:
    payload = error_body("validation_error", f"invalid fields: {', '.join(fields)}", {"fields": [
        {"field": f, "message": "the NUL character is not allowed", "type": "nul"} for f in fields]})
    await send_json(send, 422, json.dumps(payload).encode())
