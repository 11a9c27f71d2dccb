"""A pure ASGI middleware: request bodies over the limit get 413 before the app sees them."""

from __future__ import annotations

import json

from .errors import error_body


TOO_LARGE = object()  # read_body's answer for a body over the limit


async def send_json(send, status: int, payload: bytes, extra_headers: list | None = None) -> None:
    """A complete JSON response, straight through ASGI."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()), *(extra_headers or [])]})
    await send({"type": "http.response.body", "body": payload})


async def reject_too_large(send, max_bytes: int) -> None:
    body = json.dumps(error_body("payload_too_large", f"the body is larger than {max_bytes} bytes")).encode()
    await send_json(send, 413, body)


def declared_too_large(scope, max_bytes: int) -> bool:
    return any(name == b"content-length" and value.isdigit() and int(value) > max_bytes
               for name, value in scope.get("headers", []))


async def read_body(receive, max_bytes: int):
    """The whole request body; TOO_LARGE past the limit; None when the client went away."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive):
    """An ASGI `receive` that hands the app a body already read, then goes on with the real one."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class BodyLimit:
    def __init__(self, app, max_bytes: int, streamed=lambda scope: False):
        self.app, self.max_bytes = app, max_bytes
        self.streamed = streamed  # requests passed through unbuffered (their handler bounds them)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.streamed(scope):
            return await self.app(scope, receive, send)
        if declared_too_large(scope, self.max_bytes):
            return await reject_too_large(send, self.max_bytes)
        body = await read_body(receive, self.max_bytes)  # bounded, then replayed to the app
        if body is None:
            return None
        if body is TOO_LARGE:
            return await reject_too_large(send, self.max_bytes)
        return await self.app(scope, replaying(body, receive), send)
