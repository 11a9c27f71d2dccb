"""The body of every service's Alembic `env.py`: online migrations in the service's own schema."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL


def run_migrations(target_metadata=None) -> None:
    cfg = context.config
    db = cfg.attributes["database"]
    schema = cfg.attributes["schema"]
    url = URL.create("postgresql+psycopg", db.user, db.password, db.host, db.port, db.dbname)
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text(f'SET search_path TO "{schema}"'))
        connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table_schema=schema)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
