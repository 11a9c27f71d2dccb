"""Session-pool settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from switchboard_runtime.settings import ServiceSettings


class SessionPoolSettings(ServiceSettings):
    simulator_delivered_delay_ms: int = 50
    simulator_read_delay_ms: int = 200
    send_batch_size: int = 512
    send_concurrency: int = 4
    message_ttl_seconds: int = 4 * 3600  # default time-to-live of a message that has to wait
    pair_interval_seconds: float = 6.0  # at most one message per this from a sender to one recipient
