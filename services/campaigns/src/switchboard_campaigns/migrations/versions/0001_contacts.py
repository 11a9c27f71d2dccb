"""campaign contacts with their send status, live counts per status, and the blocklist

Revision ID: 0001
Revises:
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _contacts()
    _campaign_counts()
    _runs()
    _blocklist()


def _contacts() -> None:
    op.execute("""
        CREATE TABLE campaigns.contacts (
            campaign_id uuid NOT NULL,
            seq bigint NOT NULL,
            phone text NOT NULL,
            name text,
            variables jsonb,
            status text NOT NULL DEFAULT 'pending',
            message_id uuid NOT NULL,
            sender_id text,
            error_code text,
            error_title text,
            queued_at timestamptz,
            sent_at timestamptz,
            delivered_at timestamptz,
            read_at timestamptz,
            finished_at timestamptz,
            PRIMARY KEY (campaign_id, seq),
            UNIQUE (campaign_id, phone)
        )""")
    op.execute("CREATE INDEX contacts_message ON campaigns.contacts (message_id)")
    op.execute("CREATE INDEX contacts_pending ON campaigns.contacts (campaign_id, seq) WHERE status = 'pending'")
    op.execute("CREATE INDEX contacts_status ON campaigns.contacts (campaign_id, status, seq)")


def _campaign_counts() -> None:
    op.execute("""
        CREATE TABLE campaigns.campaign_counts (
            campaign_id uuid NOT NULL, status text NOT NULL, n bigint NOT NULL,
            PRIMARY KEY (campaign_id, status))""")
    # Counts per status kept exact by statement-level triggers (one aggregate per statement).
    op.execute("""
        CREATE FUNCTION campaigns.count_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
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
        END $$""")
    op.execute("""CREATE TRIGGER contacts_counted_insert AFTER INSERT ON campaigns.contacts
                  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns.count_contacts()""")
    op.execute("""CREATE TRIGGER contacts_counted_update AFTER UPDATE ON campaigns.contacts
                  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION campaigns.count_contacts()""")


def _runs() -> None:
    # The runner's working copy of each started campaign (the aggregate is the record): a cancel or
    # pause changes `status` here in the same step, and every send batch locks this row first.
    op.execute("""
        CREATE TABLE campaigns.runs (
            campaign_id uuid PRIMARY KEY, org_id text NOT NULL, status text NOT NULL,
            spec jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())""")


def _blocklist() -> None:
    op.execute("""
        CREATE TABLE campaigns.blocklist (
            org_id text NOT NULL, phone text NOT NULL, reason text, source text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (org_id, phone))""")


def downgrade() -> None:
    op.execute("DROP TABLE campaigns.blocklist")
    op.execute("DROP TABLE campaigns.runs")
    op.execute("DROP TABLE campaigns.contacts")
    op.execute("DROP FUNCTION campaigns.count_contacts()")
    op.execute("DROP TABLE campaigns.campaign_counts")
