"""conversations to start (an outbox filled by the history) and those started

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
    op.create_table(
        "conversations_to_start",
        sa.Column("conversation_id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("contact_name", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversations_to_start")
    op.drop_table("started_conversations")
