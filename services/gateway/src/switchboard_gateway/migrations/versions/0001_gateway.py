"""organizations, API keys and read models

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

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    _organizations()
    _api_keys()
    _senders()
    _messages()
    _pending_statuses()
    _conversations()


def _organizations() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    )


def _api_keys() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("key_hash", sa.Text, nullable=False, unique=True),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", TS),
    )


def _senders() -> None:
    op.create_table(
        "senders",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("quotas", JSONB, nullable=False),
        sa.Column("phone_number", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_senders_org", "senders", ["org_id", "created_at", "id"])


def _messages() -> None:
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


def _pending_statuses() -> None:
    op.create_table(
        "pending_statuses",
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("error", JSONB),
        sa.PrimaryKeyConstraint("message_id", "status"),
    )


def _conversations() -> None:
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


def downgrade() -> None:
    for table in ("conversations", "pending_statuses", "messages", "senders", "api_keys", "organizations"):
        op.drop_table(table)
