"""One attempt: POST the CloudEvent to the endpoint's URL, signed, within the timeout (connect to last
byte), following no redirect, reading at most `max_bytes` of the answer. Every outcome is an `Outcome`:
a slow, resetting, redirecting or flooding receiver is a failed attempt, never a stuck delivery. The
client checks every address it connects to (`outbound_guard`): a URL that resolves to a private address
is refused unless the operator allows it."""

from __future__ import annotations

import asyncio
import time

import httpx

from switchboard_runtime.http.outbound_guard import RefusedAddress, guarded_client

from ..domain.outcome import Outcome, of_error, of_response

USER_AGENT = "Switchboard-Webhooks/0.1"


def client(*, allow_private: bool, timeout: float) -> httpx.AsyncClient:
    """One endpoint's client: its own connections, so one slow receiver holds none another needs."""
    return guarded_client(allow_private=allow_private, timeout=timeout,
                          limits=httpx.Limits(max_connections=4, max_keepalive_connections=2))


def _error_of(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, RefusedAddress):
            return "refused_address"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return "connection_refused"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "connection_reset"
    return f"http_error: {type(exc).__name__}"


async def post(http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], *, timeout: float,
               max_bytes: int) -> Outcome:
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    request = http.build_request("POST", url, content=body, headers={
        **headers, "content-type": "application/json", "user-agent": USER_AGENT})
    try:
        async with asyncio.timeout(timeout):
            response = await http.send(request, stream=True)
            try:
                size, too_large = 0, False
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > max_bytes:
                        too_large = True
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        return of_error("timeout", elapsed())
    except httpx.TimeoutException:
        return of_error("timeout", elapsed())
    except (httpx.HTTPError, RefusedAddress, OSError) as exc:
        return of_error(_error_of(exc), elapsed())
    return of_response(response.status_code, elapsed(), response.headers.get("retry-after"), too_large)
