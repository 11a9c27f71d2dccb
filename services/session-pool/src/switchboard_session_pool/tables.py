"""The session-pool's private tables (schema `session_pool`): outbound claims and the simulator's sends."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "session_pool"
metadata = MetaData(schema=SCHEMA)

outbound_messages = Table(
    "outbound_messages", metadata,
    Column("message_id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("sender_id", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("state", Text, nullable=False),  # claimed | done
    Column("status", Text),
    Column("provider_message_id", Text),
    Column("error", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

simulator_sends = Table(
    "simulator_sends", metadata,
    Column("message_id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("sender_id", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("text", Text),
    Column("provider_message_id", Text, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
