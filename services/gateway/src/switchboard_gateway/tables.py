"""The gateway's schema: organizations and API keys (its own), and the senders read model (rebuildable
from SWITCHBOARD_EVENTS). Created by the Alembic migrations beside this file."""

from __future__ import annotations

SCHEMA = "gateway"
READ_MODEL_TABLES = ("senders",)
