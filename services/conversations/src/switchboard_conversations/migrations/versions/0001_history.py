"""message history and pending statuses

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_messages",
        sa.Column("message_id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("type", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("client_ref", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("status_at", sa.Text),
        sa.Column("statuses", JSONB, nullable=False),
        sa.Column("error", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_conversation_messages_conversation", "conversation_messages",
                    ["conversation_id", "created_at"])
    op.create_table(
        "pending_statuses",
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("error", JSONB),
        sa.PrimaryKeyConstraint("message_id", "status"),
    )


def downgrade() -> None:
    op.drop_table("pending_statuses")
    op.drop_table("conversation_messages")
