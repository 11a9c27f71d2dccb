"""What an attempt's answer means: 2xx is delivered; 410 Gone disables the endpoint; anything else —
another status (a 3xx too: redirects are not followed), a timeout, a refused or reset connection, an
answer too large — is a failure to retry. `Retry-After` counts on 429 and 503."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["succeeded", "failed", "gone"]
RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    http_status: int | None
    latency_ms: int
    error: str | None = None
    retry_after: str | None = None  # the header, on 429/503

    @property
    def status(self) -> str:
        """As the attempts log shows it."""
        return "succeeded" if self.kind == "succeeded" else "failed"


def of_response(http_status: int, latency_ms: int, retry_after: str | None, too_large: bool) -> Outcome:
    if too_large:
        return Outcome("failed", http_status, latency_ms, "response_too_large")
    if 200 <= http_status < 300:
        return Outcome("succeeded", http_status, latency_ms)
    if http_status == 410:
        return Outcome("gone", http_status, latency_ms, "gone")
    if 300 <= http_status < 400:
        return Outcome("failed", http_status, latency_ms, "redirect_not_followed")
    return Outcome("failed", http_status, latency_ms, f"http_{http_status}",
                   retry_after if http_status in RETRY_AFTER_STATUSES else None)


def of_error(error: str, latency_ms: int) -> Outcome:
    return Outcome("failed", None, latency_ms, error)
