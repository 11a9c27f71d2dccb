"""broadcast lists: named, reusable contact lists

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE campaigns.broadcast_lists (
            list_id uuid PRIMARY KEY, org_id text NOT NULL, name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now())""")
    op.execute("CREATE INDEX broadcast_lists_org ON campaigns.broadcast_lists (org_id, list_id)")
    op.execute("""
        CREATE TABLE campaigns.broadcast_contacts (
            list_id uuid NOT NULL, seq bigint NOT NULL, phone text NOT NULL, name text, variables jsonb,
            PRIMARY KEY (list_id, seq), UNIQUE (list_id, phone))""")


def downgrade() -> None:
    op.execute("DROP TABLE campaigns.broadcast_contacts")
    op.execute("DROP TABLE campaigns.broadcast_lists")
