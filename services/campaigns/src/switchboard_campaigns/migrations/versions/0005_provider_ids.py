"""each contact's provider message id, and the provider-only statuses (WAHA acks) that arrived before
any contact knew their provider message id

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Learnt from the first status naming both our message id and the provider's (the session-pool's
    # `sent`); provider-only statuses find their contact by (sender, provider message id).
    op.execute("ALTER TABLE campaigns.contacts ADD COLUMN provider_message_id text")
    op.execute("""CREATE INDEX contacts_provider_message ON campaigns.contacts (sender_id, provider_message_id)
                  WHERE provider_message_id IS NOT NULL""")
    # One row per (sender, provider message id, status): a repeat is a no-op. Taken when a contact
    # learns that provider message id; pruned after a bounded age (most are other messages' statuses).
    op.execute("""
        CREATE TABLE campaigns.provider_statuses (
            sender_id text NOT NULL, provider_message_id text NOT NULL, status text NOT NULL,
            at timestamptz NOT NULL, error_code text, error_title text,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (sender_id, provider_message_id, status))""")
    op.execute("CREATE INDEX provider_statuses_received ON campaigns.provider_statuses (received_at)")


def downgrade() -> None:
    op.execute("DROP TABLE campaigns.provider_statuses")
    op.execute("DROP INDEX campaigns.contacts_provider_message")
    op.execute("ALTER TABLE campaigns.contacts DROP COLUMN provider_message_id")
