"""the conversations service owns messages and conversations, reads included: API sends recorded as
`queued` with their command in an outbox, idempotency keys, the conversations list, and the numbers
a message went from and to

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
    op.add_column("conversation_messages", sa.Column("from_number", sa.Text))
    op.add_column("conversation_messages", sa.Column("to_number", sa.Text))
    # A pool message is recorded before the session-pool picks its sender (and so its conversation).
    op.alter_column("conversation_messages", "sender_id", nullable=True)
    op.alter_column("conversation_messages", "conversation_id", nullable=True)
    op.create_table(
        "conversations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("contact_name", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_preview", sa.Text),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_conversations_org_last", "conversations", ["org_id", "last_message_at", "id"])
    op.create_table(
        "command_outbox",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("msg_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("traceparent", sa.Text),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("response", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("org_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("command_outbox")
    op.drop_table("conversations")
    op.execute("DELETE FROM conversation_messages WHERE sender_id IS NULL OR conversation_id IS NULL")
    op.alter_column("conversation_messages", "conversation_id", nullable=False)
    op.alter_column("conversation_messages", "sender_id", nullable=False)
    op.drop_column("conversation_messages", "to_number")
    op.drop_column("conversation_messages", "from_number")
