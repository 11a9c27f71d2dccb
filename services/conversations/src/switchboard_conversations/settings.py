"""Conversations settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from switchboard_runtime.settings import ServiceSettings


class ConversationsSettings(ServiceSettings):
    history_batch_size: int = 2000
