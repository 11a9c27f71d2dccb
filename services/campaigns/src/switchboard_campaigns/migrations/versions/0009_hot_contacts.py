"""a contact's `delivered` and `read` as heap-only updates: no index names `status` any more (each of a
contact's four updates used to add an entry to every index of the table); what the runner and the
statistics looked up by status, they find through two generated flags that those updates leave as
they were

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL updates a row in place on its page (HOT: no new index entries) only when no column an
    # index holds, or a partial index's predicate reads, changes value. `status` was in both: the
    # status index and the pending index's predicate. The flags are computed from it, and change only
    # when a contact leaves `pending` (queued by the runner) or becomes `failed`; room on each page
    # (fillfactor) keeps a contact's later versions beside it. Adding the flags rewrites the table.
    op.execute("ALTER TABLE campaigns.contacts SET (fillfactor = 70)")
    op.execute("""ALTER TABLE campaigns.contacts
                  ADD COLUMN pending boolean GENERATED ALWAYS AS (status = 'pending') STORED,
                  ADD COLUMN failed boolean GENERATED ALWAYS AS (status = 'failed') STORED""")
    op.execute("DROP INDEX campaigns.contacts_pending")
    op.execute("DROP INDEX campaigns.contacts_status")
    op.execute("CREATE INDEX contacts_pending ON campaigns.contacts (campaign_id, seq) WHERE pending")
    op.execute("CREATE INDEX contacts_failed ON campaigns.contacts (campaign_id, error_code) WHERE failed")


def downgrade() -> None:
    op.execute("DROP INDEX campaigns.contacts_failed")
    op.execute("DROP INDEX campaigns.contacts_pending")
    op.execute("ALTER TABLE campaigns.contacts DROP COLUMN pending, DROP COLUMN failed")
    op.execute("CREATE INDEX contacts_pending ON campaigns.contacts (campaign_id, seq) WHERE status = 'pending'")
    op.execute("CREATE INDEX contacts_status ON campaigns.contacts (campaign_id, status, seq)")
    op.execute("ALTER TABLE campaigns.contacts RESET (fillfactor)")
