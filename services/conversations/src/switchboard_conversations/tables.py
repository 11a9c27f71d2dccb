"""The conversations service's schema (tables are created by its Alembic migrations). The read tables
can be dropped and rebuilt from SWITCHBOARD_EVENTS (`rebuild.py`)."""

from pydantic_core import to_json

SCHEMA = "conversations"
READ_MODEL_TABLES = ("conversation_messages", "pending_statuses", "conversations")


def jsonb(value) -> str:
    """A value as the JSON text a `CAST(... AS jsonb)` parameter takes (pydantic-core's writer: a fifth
    of `json.dumps`' time for a status timeline; PostgreSQL keeps jsonb parsed, not as written)."""
    return to_json(value).decode()
