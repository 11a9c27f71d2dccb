"""message templates: each template's read row (written with each change of its aggregate), and each
sender's WhatsApp Business Account in the directory (from `sender.registered`; `sender.removed` marks it)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("waba_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("parameter_format", sa.Text, nullable=False),
        sa.Column("components", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("quality_score", sa.Text),
        sa.Column("meta_template_id", sa.Text),
        sa.Column("read_only", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    # one template per name and language in an account (as at Meta)
    op.create_index("ux_templates_account_name_language", "templates", ["org_id", "waba_id", "name", "language"],
                    unique=True)
    op.create_index("ix_templates_meta_id", "templates", ["waba_id", "meta_template_id"])
    op.create_index("ix_templates_org_created", "templates", ["org_id", "created_at", "id"])
    op.add_column("directory_senders", sa.Column("waba_id", sa.Text))
    op.add_column("directory_senders", sa.Column("removed", sa.Boolean, nullable=False, server_default="false"))
    op.create_index("ix_directory_senders_waba", "directory_senders", ["org_id", "waba_id"])


def downgrade() -> None:
    op.drop_index("ix_directory_senders_waba", "directory_senders")
    op.drop_column("directory_senders", "removed")
    op.drop_column("directory_senders", "waba_id")
    op.drop_table("templates")
