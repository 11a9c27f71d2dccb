"""the runner finds a campaign's next pending contacts from where its last batch ended (`runs.taken_through`,
a seq) instead of through an index of pending contacts: a contact's `queued` mark changes no indexed column
any more, so it too is a heap-only update (its `sent` is the one that adds index entries), and a batch locks
the campaign's run row, not each contact

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE campaigns.runs ADD COLUMN taken_through bigint NOT NULL DEFAULT 0")
    op.execute("DROP INDEX campaigns.contacts_pending")
    op.execute("ALTER TABLE campaigns.contacts DROP COLUMN pending")  # no index reads it: not computed any more


def downgrade() -> None:
    op.execute("ALTER TABLE campaigns.contacts ADD COLUMN pending boolean GENERATED ALWAYS AS (status = 'pending') STORED")
    op.execute("CREATE INDEX contacts_pending ON campaigns.contacts (campaign_id, seq) WHERE pending")
    op.execute("ALTER TABLE campaigns.runs DROP COLUMN taken_through")
