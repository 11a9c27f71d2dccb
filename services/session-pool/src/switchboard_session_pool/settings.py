"""Session-pool settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from switchboard_runtime.settings import ServiceSettings


class SessionPoolSettings(ServiceSettings):
    simulator_delivered_delay_ms: int = 50
    simulator_read_delay_ms: int = 200
    send_batch_size: int = 512
    send_concurrency: int = 4
    message_ttl_seconds: int = 4 * 3600  # default time-to-live of a message that has to wait
    pair_interval_seconds: float = 6.0  # one message per this from a sender to one recipient, on average
    pair_burst: int = 3  # … after a burst of this many at once (Meta lets a pair borrow a short burst)
    reconnect_base_seconds: float = 5.0  # first reconnection delay; doubles each attempt
    reconnect_cap_seconds: float = 300.0  # … up to this
    reconnect_max_attempts: int = 30  # then the sender stays disconnected until `POST …/connect` (0: no limit)
    waha_webhook_url: str | None = None  # where WAHA sessions post events (webhook-ingest's /webhooks/waha)
    human_pacing: bool = True  # WhatsApp Web senders: random delay and typing indicator before each send
