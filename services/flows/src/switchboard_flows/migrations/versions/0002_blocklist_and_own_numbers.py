"""the blocklist as flows knows it (from blocklist.* events) and the organization's own numbers (the
`to` of its inbound messages), so auto-replies never answer a blocklisted contact or one of our own

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
        CREATE TABLE flows.blocklist (
            org_id text NOT NULL,
            phone text NOT NULL,
            blocked boolean NOT NULL,
            changed_at timestamptz NOT NULL,
            PRIMARY KEY (org_id, phone)
        )""")
    op.execute("""
        CREATE TABLE flows.own_numbers (
            org_id text NOT NULL,
            phone text NOT NULL,
            PRIMARY KEY (org_id, phone)
        )""")
