"""the conversations this service has started

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("started_conversations", sa.Column("conversation_id", sa.Text, primary_key=True))


def downgrade() -> None:
    op.drop_table("started_conversations")
