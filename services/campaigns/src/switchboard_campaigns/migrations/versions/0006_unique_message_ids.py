"""a contact's message id is unique (it derives from the campaign and the phone, which are): with the
index saying so, the planner knows a status matches one contact even before the table has statistics
(right after a big import), and looks each one up instead of scanning every contact per batch

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE UNIQUE INDEX contacts_message_id ON campaigns.contacts (message_id)")
    op.execute("DROP INDEX campaigns.contacts_message")


def downgrade() -> None:
    op.execute("CREATE INDEX contacts_message ON campaigns.contacts (message_id)")
    op.execute("DROP INDEX campaigns.contacts_message_id")
