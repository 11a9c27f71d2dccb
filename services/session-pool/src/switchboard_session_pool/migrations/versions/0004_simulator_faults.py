"""faults a simulator sender was told to show, and per-sender outcome counts for stats

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
    op.create_table(
        "simulator_faults",
        sa.Column("sender_id", sa.Text, primary_key=True),
        sa.Column("error_codes", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("latency_ms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("refuse_reconnects", sa.Integer, nullable=False, server_default="0"),
        sa.Column("qr", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("outbound_messages_sender", "outbound_messages", ["sender_id", "status"])


def downgrade() -> None:
    op.drop_index("outbound_messages_sender", "outbound_messages")
    op.drop_table("simulator_faults")
