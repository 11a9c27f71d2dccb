"""each organization's templates as their events tell them — (account, name, language) → status, parameter
format and Meta's components — and each sender's provider and business account, so a flow's message node and
an auto-reply send a template by name as the conversations service does

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # built from template.* events (flows__templates): status_at orders the status reports that cross in the
    # stream, defined_at the definitions (components NULL: only a status report is known of it yet)
    op.execute("""
        CREATE TABLE flows.templates (
            org_id text NOT NULL, waba_id text NOT NULL, name text NOT NULL, language text NOT NULL,
            status text NOT NULL, status_at timestamptz NOT NULL,
            parameter_format text, components jsonb, defined_at timestamptz,
            template_id text, meta_template_id text, updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (org_id, waba_id, name, language))""")
    op.execute("CREATE INDEX templates_by_name ON flows.templates (org_id, name, language)")
    op.execute("""CREATE INDEX templates_meta_id ON flows.templates (org_id, waba_id, meta_template_id)
                  WHERE meta_template_id IS NOT NULL""")
    # from sender.registered (the same consumer): a Meta sender's business account
    op.execute("""
        CREATE TABLE flows.senders (
            org_id text NOT NULL, sender_id text NOT NULL, provider text NOT NULL, waba_id text,
            PRIMARY KEY (org_id, sender_id))""")


def downgrade() -> None:
    op.execute("DROP TABLE flows.senders")
    op.execute("DROP TABLE flows.templates")
