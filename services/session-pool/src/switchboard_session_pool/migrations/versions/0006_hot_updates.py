"""room on each page for an outbound message's later versions, and an index that no outcome changes, so
its outcome (done) and its events' noting (published) can be heap-only updates: no index entry each (a
pool message's sender assignment changes the indexed sender, and stays a full update)

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A row is updated up to three times after its insert; on a full page (fillfactor 100) every
    # version goes to another page and adds an entry to every index. `status` in the sender index
    # made the last update a full one even with room: the sender's counts filter `state` in the heap
    # anyway, so the index on the sender alone serves them as well.
    op.execute("ALTER TABLE outbound_messages SET (fillfactor = 60)")
    op.drop_index("outbound_messages_sender", "outbound_messages")
    op.create_index("outbound_messages_sender", "outbound_messages", ["sender_id"])


def downgrade() -> None:
    op.drop_index("outbound_messages_sender", "outbound_messages")
    op.create_index("outbound_messages_sender", "outbound_messages", ["sender_id", "status"])
    op.execute("ALTER TABLE outbound_messages RESET (fillfactor)")
