"""what the session-pool has published about each outbound message (so a redelivered command
republishes only what JetStream has not stored, whatever its duplicate window)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before: not known as published, so a redelivery republishes them as it used to.
    op.add_column("outbound_messages", sa.Column("accepted_published", sa.Boolean, nullable=False,
                                                 server_default=sa.false()))
    op.add_column("outbound_messages", sa.Column("outcome_published", sa.Boolean, nullable=False,
                                                 server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("outbound_messages", "outcome_published")
    op.drop_column("outbound_messages", "accepted_published")
