"""The event-store factory: an eventsourcing Application on PostgreSQL, one schema per service,
always called off the event loop; and `get_many`, many aggregates read at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

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


VERSIONS = SQL("SELECT originator_id, max(originator_version) AS version FROM {schema}.{table} "
               "WHERE originator_id = ANY(%s) GROUP BY originator_id")


def stored_versions(app: Application, ids: Iterable[UUID]) -> dict[UUID, int]:
    """Each stored aggregate's version among `ids` (absent ones left out), in one query. Synchronous:
    run it through `call`."""
    ids, recorder = list(dict.fromkeys(ids)), app.recorder
    if not ids:
        return {}
    statement = VERSIONS.format(schema=Identifier(recorder.datastore.schema),
                                table=Identifier(recorder.events_table_name))
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(statement, [ids])
        return {row["originator_id"]: row["version"] for row in curs.fetchall()}


def get_many(app: Application, ids: Iterable[UUID]) -> dict[UUID, Any]:
    """The aggregates of `ids` (absent ones left out), as `app.repository.get` reads them, with one
    query for all their stored versions: a cached copy still at its stored version is taken as it is
    (a copy of it), where a get would ask the database for newer events once per aggregate; the rest
    are read one by one. Synchronous: run it through `call`."""
    ids = list(dict.fromkeys(ids))
    cache, recorder = app.repository.cache, app.recorder
    stored: dict[UUID, int] | None = None
    if cache is not None and isinstance(recorder, PostgresAggregateRecorder) and ids:
        statement = VERSIONS.format(schema=Identifier(recorder.datastore.schema),
                                    table=Identifier(recorder.events_table_name))
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(statement, [ids])
            stored = {row["originator_id"]: row["version"] for row in curs.fetchall()}
    found: dict[UUID, Any] = {}
    for aggregate_id in ids:
        if stored is not None:
            if aggregate_id not in stored:
                continue
            try:
                cached = cache.get(aggregate_id)
            except KeyError:
                cached = None
            if cached is not None and cached.version == stored[aggregate_id]:
                found[aggregate_id] = deepcopy(cached)
                continue
        try:
            found[aggregate_id] = app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            continue
    return found
