"""SQLAlchemy 2 async engines (asyncpg) and Alembic migrations for a service's own schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .eventstore import ensure_schema
from .settings import DatabaseUrl


def async_engine(db: DatabaseUrl, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(db.sqlalchemy_async(), pool_size=pool_size, max_overflow=pool_size,
                               pool_pre_ping=True)


def alembic_config(script_location: Path, db: DatabaseUrl, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["database"] = db
    cfg.attributes["schema"] = schema
    return cfg


def _upgrade(script_location: Path, db: DatabaseUrl, schema: str) -> None:
    ensure_schema(db, schema)
    command.upgrade(alembic_config(script_location, db, schema), "head")


async def migrate(script_location: Path, db: DatabaseUrl, schema: str) -> None:
    """Bring the service's schema to the newest migration (idempotent)."""
    await asyncio.to_thread(_upgrade, script_location, db, schema)
