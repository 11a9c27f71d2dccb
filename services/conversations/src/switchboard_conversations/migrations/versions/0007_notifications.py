"""ERP order notifications: the organizations' notification rules, what became of each ERP event (one
row per CloudEvent source + id: the record that makes a repeat a duplicate), each order's furthest stage
sent (a late event does not go backwards), and the blocklist as the campaigns service publishes it

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification_rules",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("template", JSONB, nullable=False),
        sa.Column("parameters", JSONB, nullable=False),
        sa.Column("sender_id", sa.Text),
        sa.Column("sender_pool", sa.Text),
        sa.Column("condition", JSONB),
        sa.Column("stage", sa.Integer),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_notification_rules_org_event", "notification_rules", ["org_id", "event", "created_at"])
    op.create_table(
        "notifications",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("erp_source", sa.Text, primary_key=True),
        sa.Column("erp_event_id", sa.Text, primary_key=True),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),  # sent, failed, skipped
        sa.Column("reason", sa.Text),
        sa.Column("message_id", sa.Text),
        sa.Column("rule_id", sa.Text),
        sa.Column("erp_seq", sa.BigInteger),  # the stream sequence it came with (a redelivery is not a repeat)
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_notifications_message", "notifications", ["message_id"])
    op.create_table(
        "order_progress",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "directory_blocklist",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("phone", sa.Text, primary_key=True),
    )


def downgrade() -> None:
    for table in ("directory_blocklist", "order_progress", "notifications", "notification_rules"):
        op.drop_table(table)
