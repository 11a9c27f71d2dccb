"""why a sender is disconnected, and whether (and why) it is paused

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("senders", sa.Column("status_reason", sa.Text))
    op.add_column("senders", sa.Column("paused", JSONB))


def downgrade() -> None:
    op.drop_column("senders", "paused")
    op.drop_column("senders", "status_reason")
