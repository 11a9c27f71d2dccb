"""counts per status as insert-only deltas (an upload in progress no longer holds the count rows
that sending updates), and a record of every contact import with its progress

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COUNT_INTO_DELTAS = """
    CREATE OR REPLACE FUNCTION campaigns.count_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO campaigns.count_deltas (campaign_id, status, d)
            SELECT campaign_id, status, count(*) FROM new_rows GROUP BY 1, 2;
        ELSE
            INSERT INTO campaigns.count_deltas (campaign_id, status, d)
            SELECT campaign_id, status, sum(d) FROM (
                SELECT campaign_id, status, -1 AS d FROM old_rows
                UNION ALL SELECT campaign_id, status, 1 FROM new_rows) AS x
            GROUP BY 1, 2 HAVING sum(d) <> 0;
        END IF;
        RETURN NULL;
    END $$"""

COUNT_INTO_ROWS = """
    CREATE OR REPLACE FUNCTION campaigns.count_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO campaigns.campaign_counts AS c (campaign_id, status, n)
            SELECT campaign_id, status, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + excluded.n;
        ELSE
            INSERT INTO campaigns.campaign_counts AS c (campaign_id, status, n)
            SELECT campaign_id, status, sum(d) FROM (
                SELECT campaign_id, status, -1 AS d FROM old_rows
                UNION ALL SELECT campaign_id, status, 1 FROM new_rows) AS x
            GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
            ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + excluded.n;
        END IF;
        RETURN NULL;
    END $$"""


def upgrade() -> None:
    # Each statement on contacts appends its change per status here (no row is ever updated, so
    # concurrent transactions never wait for each other); counts = campaign_counts + the deltas, and
    # folding the deltas into campaign_counts (counts.py) keeps the sum short.
    op.execute("""
        CREATE TABLE campaigns.count_deltas (
            campaign_id uuid NOT NULL, status text NOT NULL, d bigint NOT NULL)""")
    op.execute("CREATE INDEX count_deltas_campaign ON campaigns.count_deltas (campaign_id)")
    op.execute(COUNT_INTO_DELTAS)
    op.execute("""
        CREATE TABLE campaigns.imports (
            import_id uuid PRIMARY KEY, org_id text NOT NULL, target text NOT NULL, target_id uuid NOT NULL,
            status text NOT NULL, content_type text NOT NULL, bytes_total bigint, bytes_read bigint NOT NULL DEFAULT 0,
            rows_read bigint NOT NULL DEFAULT 0, accepted bigint NOT NULL DEFAULT 0,
            duplicates bigint NOT NULL DEFAULT 0, rejected bigint NOT NULL DEFAULT 0, error text,
            started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz)""")
    op.execute("CREATE INDEX imports_target ON campaigns.imports (target_id, started_at)")


def downgrade() -> None:
    op.execute("DROP TABLE campaigns.imports")
    op.execute(COUNT_INTO_ROWS)
    op.execute("""
        INSERT INTO campaigns.campaign_counts AS c (campaign_id, status, n)
        SELECT campaign_id, status, sum(d) FROM campaigns.count_deltas GROUP BY 1, 2
        ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + excluded.n""")
    op.execute("DROP TABLE campaigns.count_deltas")
