"""The webhooks service's schema (tables are created by its Alembic migrations)."""

SCHEMA = "webhooks"
