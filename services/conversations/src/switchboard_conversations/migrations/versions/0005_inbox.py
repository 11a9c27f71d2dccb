"""the inbox: each conversation's lifecycle state (written with each change, from the aggregate),
per-reader read marks, private notes, each organization's inbox settings, SLA policies and each conversation's SLA, canned responses, the directory of users, teams and senders
(from the gateway's and the session-pool's events), conversations to reopen, replies' agents, and a
full-text index over the messages

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    _conversation_columns()
    _conversation_indexes()
    _inbox_tables()
    _message_columns()
    _side_tables()


def _conversation_columns() -> None:
    for column in (sa.Column("status", sa.Text, nullable=False, server_default="open"),
                   sa.Column("agent_id", sa.Text), sa.Column("team_id", sa.Text),
                   sa.Column("priority", sa.Text, nullable=False, server_default="none"),
                   sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default="{}"),
                   sa.Column("customer_id", sa.Text), sa.Column("snoozed_until", TS),
                   sa.Column("resolved_at", TS),
                   sa.Column("version", sa.Integer, nullable=False, server_default="0"),
                   sa.Column("waiting_since", TS), sa.Column("first_reply_at", TS),
                   sa.Column("last_inbound_at", TS), sa.Column("last_reply_at", TS),
                   sa.Column("first_inbound_at", TS),
                   # the SLA (sla_planner.py): the policy that applies, its pending deadlines, when
                   # something is next due, what was fired, whether a target was missed
                   sa.Column("sla_policy_id", sa.Text), sa.Column("sla_first_response_due", TS),
                   sa.Column("sla_next_response_due", TS), sa.Column("sla_resolution_due", TS),
                   sa.Column("sla_next_at", TS), sa.Column("sla_started_at", TS),
                   sa.Column("sla_dirty", sa.Boolean, nullable=False, server_default=sa.false()),
                   sa.Column("sla_missed", sa.Boolean, nullable=False, server_default=sa.false()),
                   sa.Column("sla_fired", ARRAY(sa.Text), nullable=False, server_default="{}")):
        op.add_column("conversations", column)


def _conversation_indexes() -> None:
    op.create_index("ix_conversations_org_status_last", "conversations", ["org_id", "status", "last_message_at", "id"])
    op.create_index("ix_conversations_org_agent", "conversations", ["org_id", "agent_id", "last_message_at"])
    op.create_index("ix_conversations_org_waiting", "conversations", ["org_id", "waiting_since", "id"])
    op.create_index("ix_conversations_tags", "conversations", ["tags"], postgresql_using="gin")
    # the inbox's timers (due.py): a snooze's end, the archive of a resolved conversation
    op.create_index("ix_conversations_snoozed_until", "conversations", ["snoozed_until"],
                    postgresql_where=sa.text("status = 'snoozed'"))
    op.create_index("ix_conversations_resolved_at", "conversations", ["resolved_at"],
                    postgresql_where=sa.text("status = 'resolved'"))
    op.create_index("ix_conversations_sla_dirty", "conversations", ["id"], postgresql_where=sa.text("sla_dirty"))
    op.create_index("ix_conversations_sla_next_at", "conversations", ["sla_next_at"],
                    postgresql_where=sa.text("sla_next_at IS NOT NULL"))


def _inbox_tables() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(  # each resolve, for the conversation stats
        "conversation_resolutions",
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("resolved_at", TS, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("sla_policy_id", sa.Text),
        sa.Column("sla_missed", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "resolved_at"),
    )
    op.create_index("ix_conversation_resolutions_org", "conversation_resolutions", ["org_id", "resolved_at"])
    op.create_index("ix_conversations_org_first_reply", "conversations", ["org_id", "first_reply_at"])
    op.create_index("ix_conversations_org_started", "conversations", ["org_id", "started_at"])
    op.create_index("ix_conversation_messages_org_created", "conversation_messages", ["org_id", "created_at"])
    op.create_table(
        "inbox_settings",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("auto_resolve", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("auto_resolve_after_seconds", sa.Integer, nullable=False, server_default="86400"),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )


def _message_columns() -> None:
    op.add_column("conversation_messages", sa.Column("agent_id", sa.Text))
    op.execute("CREATE INDEX ix_conversation_messages_text ON conversation_messages "
               "USING gin (to_tsvector('simple', coalesce(text, '')))")


def _side_tables() -> None:
    op.create_table(
        "conversation_reads",
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("reader_id", sa.Text, nullable=False),
        sa.Column("read_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "reader_id"),
    )
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("actor_type", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_conversation_notes_conversation", "conversation_notes", ["conversation_id", "created_at"])
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("short_code", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("org_id", "short_code"),
    )
    op.create_table(
        "directory_users",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "directory_teams",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "directory_senders",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
    )
    op.create_table(
        "conversations_to_reopen",
        sa.Column("conversation_id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("conversation_resolutions", "sla_policies", "inbox_settings", "conversations_to_reopen", "directory_senders", "directory_teams", "directory_users",
                  "canned_responses", "conversation_notes", "conversation_reads"):
        op.drop_table(table)
    op.execute("DROP INDEX ix_conversation_messages_text")
    op.drop_index("ix_conversation_messages_org_created", "conversation_messages")
    op.drop_column("conversation_messages", "agent_id")
    for index in ("ix_conversations_org_started", "ix_conversations_org_first_reply", "ix_conversations_sla_next_at", "ix_conversations_sla_dirty", "ix_conversations_resolved_at", "ix_conversations_snoozed_until", "ix_conversations_tags", "ix_conversations_org_waiting", "ix_conversations_org_agent",
                  "ix_conversations_org_status_last"):
        op.drop_index(index, "conversations")
    for column in ("status", "agent_id", "team_id", "priority", "tags", "customer_id", "snoozed_until",
                   "resolved_at", "version", "waiting_since", "first_reply_at", "last_inbound_at",
                   "last_reply_at", "first_inbound_at", "sla_policy_id", "sla_first_response_due", "sla_next_response_due",
                   "sla_resolution_due", "sla_next_at", "sla_started_at", "sla_dirty", "sla_missed", "sla_fired"):
        op.drop_column("conversations", column)
