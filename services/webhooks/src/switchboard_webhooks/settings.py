"""Webhooks service settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from datetime import timedelta

from switchboard_runtime.settings import ServiceSettings

from .domain.schedule import DEFAULT_SCHEDULE, parse_schedule


class WebhooksSettings(ServiceSettings):
    webhooks_host: str = "127.0.0.1"
    webhooks_port: int = 8085
    # endpoint URLs may be loopback, private or link-local addresses (a receiver on the same machine);
    # false by default and in deploy/k8s, true in `make run`'s development default
    allow_private_urls: bool = False
    webhook_timeout_seconds: float = 15.0  # an attempt's whole time, connect to last byte
    webhook_retry_schedule: str = ",".join(f"{d:g}" for d in DEFAULT_SCHEDULE)  # seconds after each failure
    webhook_disable_after_hours: float = 120.0  # every attempt failing this long disables the endpoint
    webhook_secret_overlap_hours: float = 24.0  # a rotated secret keeps signing this long beside the new one
    webhook_max_response_bytes: int = 64 * 1024  # a larger answer is a failed attempt (it is not read further)
    webhook_lease_seconds: float = 30.0  # a replica's hold on the endpoints it delivers to (renewed)
    webhook_poll_seconds: float = 2.0  # how often endpoints (and their changes) are looked for
    webhook_attempts_days: int = 30  # attempts are kept this long
    webhooks_max_body_bytes: int = 64 * 1024

    def schedule(self) -> tuple[float, ...]:
        return parse_schedule(self.webhook_retry_schedule)

    def disable_after(self) -> timedelta:
        return timedelta(hours=self.webhook_disable_after_hours)
