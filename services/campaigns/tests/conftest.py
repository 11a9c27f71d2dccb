"""The campaigns schema, migrated, in a fresh database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import switchboard_campaigns
from switchboard_campaigns.tables import SCHEMA
from switchboard_runtime.database import async_engine, migrate
from switchboard_runtime.settings import DatabaseUrl

MIGRATIONS = Path(switchboard_campaigns.__file__).parent / "migrations"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    db = DatabaseUrl.parse(database_url)
    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db, pool_size=2)
    yield engine
    await engine.dispose()
