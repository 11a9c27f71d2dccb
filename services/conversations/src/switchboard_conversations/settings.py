"""Conversations settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from switchboard_runtime.settings import ServiceSettings


class ConversationsSettings(ServiceSettings):
    # events per history transaction: under a campaign's load a batch of 6,000 spans ~0.5 s, so more of a
    # message's accepted and statuses share one (0.77 updates a message after its insert; with 2,000:
    # 1.34-1.39, and the history ~100,000 events behind the statistics)
    history_batch_size: int = 6000
    conversations_host: str = "127.0.0.1"
    conversations_port: int = 8083  # its API (messages, conversations), reached through the gateway
    default_region: str | None = None  # region for numbers written without + (e.g. DE)
    archive_after_days: float = 7.0  # a resolved conversation is archived this long after
    inbox_due_poll_seconds: float = 1.0  # how often snoozes, archives, auto-resolves and SLAs are checked
    template_sync_hours: float = 6.0  # how often every account's templates are reconciled with Meta (and on start)
