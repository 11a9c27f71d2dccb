"""Conversations settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from switchboard_runtime.settings import ServiceSettings


class ConversationsSettings(ServiceSettings):
    history_batch_size: int = 2000
    conversations_host: str = "127.0.0.1"
    conversations_port: int = 8083  # its API (messages, conversations), reached through the gateway
    default_region: str | None = None  # region for numbers written without + (e.g. DE)
    archive_after_days: float = 7.0  # a resolved conversation is archived this long after
    inbox_due_poll_seconds: float = 1.0  # how often snoozes, archives, auto-resolves and SLAs are checked
    template_sync_hours: float = 6.0  # how often every account's templates are reconciled with Meta (and on start)
