"""The conversations service's schema (tables are created by its Alembic migrations). The read tables
can be dropped and rebuilt from SWITCHBOARD_EVENTS (`rebuild.py`)."""

SCHEMA = "conversations"
READ_MODEL_TABLES = ("conversation_messages", "pending_statuses", "conversations")
