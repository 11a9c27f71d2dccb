"""users (with a role and their own API key), teams and their members, and the event outbox (user.* and
team.* events written in the transaction of the change, published after commit)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from switchboard_runtime.outbox import columns as outbox_columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),  # its events' ids
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("deleted_at", TS),
        sa.CheckConstraint("role IN ('admin', 'agent', 'viewer')", name="users_role"),
    )
    op.execute("CREATE UNIQUE INDEX users_email ON users (org_id, lower(email)) WHERE deleted_at IS NULL")
    op.create_index("ix_users_org", "users", ["org_id", "created_at", "id"])
    op.add_column("api_keys", sa.Column("user_id", sa.Text, sa.ForeignKey("users.id")))
    op.create_index("ix_api_keys_user", "api_keys", ["user_id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("deleted_at", TS),
    )
    op.execute("CREATE UNIQUE INDEX teams_name ON teams (org_id, lower(name)) WHERE deleted_at IS NULL")
    op.create_index("ix_teams_org", "teams", ["org_id", "created_at", "id"])
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Text, sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("added_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_index("ix_team_members_user", "team_members", ["user_id"])
    op.create_table("outbox", *outbox_columns())


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("team_members")
    op.drop_table("teams")
    op.drop_index("ix_api_keys_user", "api_keys")
    op.drop_column("api_keys", "user_id")
    op.drop_table("users")
