"""a conversation's SLA mark: counted up by every change of its organization's SLA policies, so a plan
computed from the policies as they were before the change is not written over it

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("sla_mark", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("conversations", "sla_mark")
