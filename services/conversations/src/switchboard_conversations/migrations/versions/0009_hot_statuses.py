"""room on each page of `conversation_messages` for a message's later versions, so a status that changes
no indexed column (delivered, read: the status, its time, the timeline) is a heap-only update, with no
new entry in the table's five indexes (the text search index among them)

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE conversation_messages SET (fillfactor = 70)")


def downgrade() -> None:
    op.execute("ALTER TABLE conversation_messages RESET (fillfactor)")
