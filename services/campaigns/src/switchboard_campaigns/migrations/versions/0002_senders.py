"""the senders the campaigns service knows of (from sender.* events)

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE campaigns.senders (
            sender_id text PRIMARY KEY, org_id text NOT NULL, status text NOT NULL,
            paused boolean NOT NULL DEFAULT false, labels jsonb NOT NULL DEFAULT '[]', quotas jsonb)""")
    op.execute("CREATE INDEX senders_org ON campaigns.senders (org_id)")


def downgrade() -> None:
    op.execute("DROP TABLE campaigns.senders")
