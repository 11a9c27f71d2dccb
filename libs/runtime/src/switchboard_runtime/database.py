"""SQLAlchemy 2 async engines (asyncpg) and Alembic migrations for a service's own schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .eventstore import ensure_schema
from .settings import DatabaseUrl


def async_engine(db: DatabaseUrl, pool_size: int = 10) -> AsyncEngine:
    """A pooled engine whose checkouts skip connections the server has closed (a restart, a terminated
    backend) without a round trip: SQLAlchemy's `pool_pre_ping` costs three (BEGIN, a query, ROLLBACK)
    on every checkout, as much as many a unit of work. A connection that died unseen (no FIN) fails its
    first statement instead; SQLAlchemy then invalidates the whole pool, so one unit of work per
    outage sees the error (a consumer's batch is redelivered, a request answers 503)."""
    engine = create_async_engine(db.sqlalchemy_async(), pool_size=pool_size, max_overflow=pool_size)
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection, _record, _proxy) -> None:
    """asyncpg notices the server's close of the socket as it happens (`is_closed()`, no I/O); raising
    DisconnectionError makes the pool discard the connection and check out another."""
    raw = getattr(dbapi_connection, "_connection", None)  # the asyncpg connection inside SQLAlchemy's adapter
    if raw is not None and raw.is_closed():
        raise DisconnectionError("the server closed this connection")


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
