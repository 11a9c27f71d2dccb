"""sender labels, removal, and the connection attempt in progress

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("senders", sa.Column("labels", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.add_column("senders", sa.Column("removed_at", sa.DateTime(timezone=True)))
    op.add_column("senders", sa.Column("attempt", sa.Integer, nullable=False, server_default="0"))
    op.add_column("senders", sa.Column("retry_in_seconds", sa.Float))
    op.create_index("senders_labels", "senders", ["labels"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("senders_labels", "senders")
    for column in ("retry_in_seconds", "attempt", "removed_at", "labels"):
        op.drop_column("senders", column)
