"""messages found by provider message id (statuses that name only it)

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversation_messages_provider_message_id", "conversation_messages",
                    ["provider_message_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_messages_provider_message_id", "conversation_messages")
