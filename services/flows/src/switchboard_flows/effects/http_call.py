"""The `http` node's request: one call to a URL the flow names, through the outbound guard, retried with
backoff on timeouts, connection errors and 5xx (never on 4xx), bounded in time as a whole, and answered
with an HttpOutcome — never an exception.

Limits: a timeout of at most 30 s an attempt, at most 5 retries, at most 60 s for the whole call retries
included (a retry the budget has no room for is not made); the response body is read up to 64 KiB (the
rest is dropped: `truncated`). Redirects are not followed: a 3xx is a failure that names its Location.
The request carries an `Idempotency-Key` (the caller's deterministic key, the same on every attempt and
redelivery) unless the flow set one itself."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from switchboard_runtime.http.outbound_guard import RefusedAddress, guarded_client, validate_url

DEFAULT_TIMEOUT, MAX_TIMEOUT, MAX_RETRIES, MAX_TOTAL_SECONDS = 10.0, 30.0, 5, 60.0
BODY_LIMIT = 64 * 1024  # bytes of a response body kept
MAX_BACKOFF = 5.0
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
OURS = frozenset({"host", "content-length", "transfer-encoding", "connection"})  # set by the client, not the flow
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: Any | None  # a JSON value, sent JSON-encoded (a str is sent as a JSON string); None: no body
    timeout_seconds: float = DEFAULT_TIMEOUT  # an attempt's; at most MAX_TIMEOUT
    retries: int = 2  # attempts after the first, at most MAX_RETRIES
    idempotency_key: str | None = None


@dataclass(frozen=True)
class HttpOutcome:
    ok: bool  # a 2xx answer: the node's `success` exit; anything else is `failure`
    status: int | None  # None when no answer came (refused, timed out, unreachable, invalid)
    body: str  # the response body as text, its first BODY_LIMIT bytes
    json: Any | None  # the body parsed, when it is (whole) JSON
    error: str | None  # why it failed, for the execution's log (None when ok)
    attempts: int  # requests tried (0 when the request was invalid and nothing was tried)
    duration_ms: int
    truncated: bool = False  # the body was longer than BODY_LIMIT and was cut


@dataclass(frozen=True)
class _Answer:
    """One attempt's result: a response (status, body) or an error; whether another attempt may help."""
    status: int | None = None
    raw: bytes = b""
    charset: str | None = None
    truncated: bool = False
    location: str | None = None
    error: str | None = None
    retry: bool = False


def _invalid(request: HttpRequest) -> str | None:
    """Why the request cannot be made at all, or None."""
    if request.method.upper() not in METHODS:
        return f"the method {request.method!r} is not one of {', '.join(sorted(METHODS))}"
    try:
        validate_url(request.url)
    except ValueError as exc:
        return str(exc)
    if request.idempotency_key is not None and _BAD_VALUE.search(request.idempotency_key):
        return "the idempotency key contains a line break or NUL"
    for name, value in request.headers.items():
        if not _TOKEN.fullmatch(str(name)):
            return f"the header name {name!r} is not valid"
        if _BAD_VALUE.search(str(value)):
            return f"the header {name} contains a line break or NUL"
    return None


def _headers(request: HttpRequest) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in request.headers.items() if str(k).lower() not in OURS}
    present = {k.lower() for k in headers}
    if request.idempotency_key and "idempotency-key" not in present:
        headers["Idempotency-Key"] = request.idempotency_key
    if "accept-encoding" not in present:  # no compressed body: what is read stays within BODY_LIMIT
        headers["Accept-Encoding"] = "identity"
    if request.body is not None and "content-type" not in present:
        headers["Content-Type"] = "application/json"
    return headers


def _encoded(body: Any | None) -> bytes | None:
    if body is None:
        return None
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


async def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    """The body's first BODY_LIMIT bytes, and whether there was more (not read further)."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > BODY_LIMIT:
            break
    return b"".join(chunks)[:BODY_LIMIT], size > BODY_LIMIT


def _text(answer: _Answer) -> str:
    try:
        return answer.raw.decode(answer.charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return answer.raw.decode("utf-8", errors="replace")


def _parsed(text: str, truncated: bool) -> Any | None:
    if truncated or not text.strip():
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _failure(error: str, attempts: int, started: float) -> HttpOutcome:
    return HttpOutcome(ok=False, status=None, body="", json=None, error=error, attempts=attempts,
                       duration_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _outcome(answer: _Answer, attempts: int, started: float) -> HttpOutcome:
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    if answer.status is None:
        return _failure(f"{answer.error}{tries}", attempts, started)
    text = _text(answer)
    ok = 200 <= answer.status < 300
    error = None
    if 300 <= answer.status < 400:
        error = f"HTTP {answer.status}: redirects are not followed (Location: {answer.location or 'none'})"
    elif not ok:
        error = f"HTTP {answer.status}{tries}"
    return HttpOutcome(ok=ok, status=answer.status, body=text, json=_parsed(text, answer.truncated), error=error,
                       attempts=attempts, duration_ms=_ms(started), truncated=answer.truncated)


class HttpCaller:
    """The service's one guarded client and the retry loop around it (one per service, closed on stop)."""

    def __init__(self, *, allow_private: bool, backoff_seconds: float = 0.5):
        self.backoff = max(0.0, backoff_seconds)
        self.client = guarded_client(allow_private=allow_private, timeout=MAX_TIMEOUT)

    async def call(self, request: HttpRequest) -> HttpOutcome:
        """The request made (and retried) within its time budget; never raises (but is cancellable)."""
        started = time.monotonic()
        try:
            return await self._call(request, started)
        except Exception as exc:  # a defect here must still end the node, not the execution's engine
            return _failure(f"unexpected error: {type(exc).__name__}", 0, started)

    async def close(self) -> None:
        await self.client.aclose()

    async def _call(self, request: HttpRequest, started: float) -> HttpOutcome:
        problem = _invalid(request)
        if problem is None:
            try:
                content = _encoded(request.body)
            except (TypeError, ValueError) as exc:
                problem = f"the body is not JSON: {exc}"
        if problem is not None:
            return _failure(problem, 0, started)
        timeout = min(max(float(request.timeout_seconds), 0.001), MAX_TIMEOUT)
        retries = min(max(int(request.retries), 0), MAX_RETRIES)
        deadline = started + MAX_TOTAL_SECONDS
        headers, attempts = _headers(request), 0
        while True:
            attempts += 1
            answer = await self._once(request.method.upper(), request.url, headers, content,
                                      max(min(timeout, deadline - time.monotonic()), 0.001))
            pause = min(self.backoff * 2 ** (attempts - 1), MAX_BACKOFF)
            if not answer.retry or attempts > retries or time.monotonic() + pause + 0.1 >= deadline:
                return _outcome(answer, attempts, started)
            await asyncio.sleep(pause)

    async def _once(self, method: str, url: str, headers: dict[str, str], content: bytes | None,
                    timeout: float) -> _Answer:
        """One attempt, bounded as a whole by `timeout` (a server dripping bytes cannot stretch it)."""
        try:
            async with asyncio.timeout(timeout):
                built = self.client.build_request(method, url, headers=headers, content=content, timeout=timeout)
                response = await self.client.send(built, stream=True)
                try:
                    raw, truncated = await _read_capped(response)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            return _Answer(error=f"timed out after {timeout:g} s", retry=True)
        except RefusedAddress as exc:
            return _Answer(error=str(exc))
        except httpx.TransportError as exc:
            return _Answer(error=f"could not reach the server: {str(exc) or type(exc).__name__}", retry=True)
        except httpx.HTTPError as exc:
            return _Answer(error=f"the request failed: {str(exc) or type(exc).__name__}")
        return _Answer(status=response.status_code, raw=raw, charset=response.charset_encoding,
                       truncated=truncated, location=response.headers.get("location"),
                       retry=response.status_code >= 500)
