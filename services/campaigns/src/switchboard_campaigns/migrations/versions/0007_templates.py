"""each organization's templates as their events tell them (status by account, name and language), each
sender's provider and business account, and why a run is in its status (a pause by its template)

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # built from template.* events (campaigns__templates); status_at orders reports that cross
    op.execute("""
        CREATE TABLE campaigns.templates (
            org_id text NOT NULL, waba_id text NOT NULL, name text NOT NULL, language text NOT NULL,
            status text NOT NULL, status_at timestamptz NOT NULL,
            template_id text, meta_template_id text, updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (org_id, waba_id, name, language))""")
    op.execute("""CREATE INDEX templates_meta_id ON campaigns.templates (org_id, waba_id, meta_template_id)
                  WHERE meta_template_id IS NOT NULL""")
    op.execute("ALTER TABLE campaigns.senders ADD COLUMN provider text, ADD COLUMN waba_id text")
    op.execute("CREATE INDEX senders_waba ON campaigns.senders (org_id, waba_id) WHERE waba_id IS NOT NULL")
    op.execute("ALTER TABLE campaigns.runs ADD COLUMN reason text")


def downgrade() -> None:
    op.execute("ALTER TABLE campaigns.runs DROP COLUMN reason")
    op.execute("DROP INDEX campaigns.senders_waba")
    op.execute("ALTER TABLE campaigns.senders DROP COLUMN waba_id, DROP COLUMN provider")
    op.execute("DROP TABLE campaigns.templates")
