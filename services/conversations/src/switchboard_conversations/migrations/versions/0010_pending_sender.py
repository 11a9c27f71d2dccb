"""a status that waits for its message keeps the sender it names: a pool message's `sent` that comes
before its `accepted` then shows the sender that sent it, as it does when they come together

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("pending_statuses", sa.Column("sender_id", sa.Text))


def downgrade() -> None:
    op.drop_column("pending_statuses", "sender_id")
