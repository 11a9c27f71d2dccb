"""the gateway no longer keeps messages and conversations: the conversations service owns them,
reads included (it serves /v1/messages and /v1/conversations behind the gateway)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    for table in ("conversations", "pending_statuses", "messages"):
        op.drop_table(table)


def downgrade() -> None:  # the tables as 0001 made them, empty (rebuild-projections refills them)
    op.create_table(
        "messages",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("from_number", sa.Text),
        sa.Column("to_number", sa.Text),
        sa.Column("type", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("client_ref", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_at", sa.Text),
        sa.Column("statuses", JSONB, nullable=False),
        sa.Column("error", JSONB),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "created_at", "id"])
    op.create_index("ix_messages_provider_message_id", "messages", ["provider_message_id"])  # 0002's
    op.create_table(
        "pending_statuses",
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("error", JSONB),
        sa.PrimaryKeyConstraint("message_id", "status"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("contact_name", sa.Text),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("last_message_at", TS, nullable=False),
        sa.Column("last_message_preview", sa.Text),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_conversations_org", "conversations", ["org_id", "last_message_at", "id"])
