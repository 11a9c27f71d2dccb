"""The services' engines on the real PostgreSQL: a connection the server closed (as a restart closes
them all) is skipped at checkout, so the next unit of work succeeds without a ping per checkout."""

from __future__ import annotations

import asyncio

import psycopg
from sqlalchemy import text

from switchboard_runtime.database import async_engine
from switchboard_runtime.settings import DatabaseUrl


def _backends(database_url: str, terminate: bool = False) -> list[int]:
    """The server processes serving this test's database (but the asking one), terminated if asked."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        for pid in pids if terminate else ():
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return pids


async def _gone(database_url: str, pids: list[int]) -> None:
    for _ in range(250):  # bounded: 5 s
        if not set(pids) & set(await asyncio.to_thread(_backends, database_url)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"backends {pids} still serve")


async def test_connections_the_server_closed_are_replaced_at_checkout(database_url):
    engine = async_engine(DatabaseUrl.parse(database_url), pool_size=3)
    try:
        async def backend_pid(hold: float = 0.0) -> int:
            async with engine.connect() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                await asyncio.sleep(hold)
                return pid

        pooled = set(await asyncio.gather(*(backend_pid(0.2) for _ in range(3))))
        assert len(pooled) == 3  # three connections wait in the pool
        killed = await asyncio.to_thread(_backends, database_url, True)
        assert pooled <= set(killed)
        await _gone(database_url, killed)
        await asyncio.sleep(0.2)  # the event loop reads each socket's end
        for _ in range(5):  # every checkout finds a live connection: none fails
            assert await backend_pid() not in pooled
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()
