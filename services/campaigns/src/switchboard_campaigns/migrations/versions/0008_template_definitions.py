"""each template's definition as its events tell it (parameter format and Meta's components, ordered by the
time of the change that defined it), so a campaign's template parameters are checked and its messages carry
the text the customer reads

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # from template.created|edited|imported (campaigns__templates). A row without one (known only by a status
    # report, or recorded before this revision until its template is next edited or imported) is sent unchecked.
    op.execute("""ALTER TABLE campaigns.templates ADD COLUMN parameter_format text, ADD COLUMN components jsonb,
                  ADD COLUMN defined_at timestamptz""")


def downgrade() -> None:
    op.execute("ALTER TABLE campaigns.templates DROP COLUMN defined_at, DROP COLUMN components, "
               "DROP COLUMN parameter_format")

