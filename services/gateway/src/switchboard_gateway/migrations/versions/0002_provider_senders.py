"""provider identifiers of senders; messages found by provider message id

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
    op.add_column("senders", sa.Column("phone_number_id", sa.Text))
    op.add_column("senders", sa.Column("waba_id", sa.Text))
    op.add_column("senders", sa.Column("session", sa.Text))
    op.create_index("ix_senders_phone_number_id", "senders", ["phone_number_id"])
    op.create_index("ix_senders_session", "senders", ["session"])
    op.create_index("ix_messages_provider_message_id", "messages", ["provider_message_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_provider_message_id", "messages")
    op.drop_index("ix_senders_session", "senders")
    op.drop_index("ix_senders_phone_number_id", "senders")
    for column in ("session", "waba_id", "phone_number_id"):
        op.drop_column("senders", column)
