"""A campaign's contacts counted per status: `campaign_counts` plus `count_deltas`, the changes each
statement on `contacts` appends (a trigger; insert-only, so an upload in progress never makes sending
wait, nor the other way round). `fold` moves the committed deltas into `campaign_counts` in one
statement, keeping the sum short; replicas may fold at the same time."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import SCHEMA

COUNTS = text(f"""
    SELECT status, sum(n) AS n FROM (
        SELECT status, n FROM {SCHEMA}.campaign_counts WHERE campaign_id = CAST(:cid AS uuid)
        UNION ALL SELECT status, d FROM {SCHEMA}.count_deltas WHERE campaign_id = CAST(:cid AS uuid)) AS x
    GROUP BY status""")
FOLD = text(f"""
    WITH moved AS (DELETE FROM {SCHEMA}.count_deltas RETURNING campaign_id, status, d)
    INSERT INTO {SCHEMA}.campaign_counts AS c (campaign_id, status, n)
    SELECT campaign_id, status, sum(d) FROM moved GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + excluded.n""")


async def counts(conn: AsyncConnection, campaign_id: str) -> dict[str, int]:
    return {r.status: int(r.n) for r in await conn.execute(COUNTS, {"cid": campaign_id}) if r.n}


async def fold(conn: AsyncConnection) -> None:
    await conn.execute(FOLD)
