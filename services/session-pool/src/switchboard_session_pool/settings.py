"""Session-pool settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from switchboard_runtime.settings import ServiceSettings


class SessionPoolSettings(ServiceSettings):
    simulator_delivered_delay_ms: int = 50
    simulator_read_delay_ms: int = 200
    send_batch_size: int = 512
    send_concurrency: int = 4
