"""The event-store factory: an eventsourcing Application on PostgreSQL, one schema per service,
always called off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import psycopg
from eventsourcing.application import Application

from .settings import DatabaseUrl

App = TypeVar("App", bound=Application)


def ensure_schema(db: DatabaseUrl, schema: str) -> None:
    with psycopg.connect(host=db.host, port=db.port, user=db.user, password=db.password,
                         dbname=db.dbname, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def postgres_application(app_class: type[App], db: DatabaseUrl, schema: str, pool_size: int = 5,
                         **extra_env: str) -> App:
    """Build `app_class` persisted in `schema` (created if missing), pool sized for our threads."""
    ensure_schema(db, schema)
    return app_class(env={**db.eventsourcing_env(schema, pool_size), **extra_env})


def memory_application(app_class: type[App]) -> App:
    """The same application on in-memory persistence (aggregate and policy tests)."""
    return app_class(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


async def call(fn: Callable[..., object], *args: object, **kwargs: object):
    """Run a synchronous eventsourcing call in a worker thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)
