"""flows and their revisions, executions (the read table and the one-active-per-contact claim),
auto-reply rules and the auto-replies sent

Revision ID: 0001
Revises:
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE flows.flows (
            flow_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            name text NOT NULL,
            active boolean NOT NULL DEFAULT false,
            priority integer NOT NULL DEFAULT 0,
            revision integer,
            trigger jsonb NOT NULL,
            draft jsonb NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""")
    op.execute("CREATE INDEX flows_by_org ON flows.flows (org_id, flow_id)")
    op.execute("CREATE INDEX flows_active ON flows.flows (org_id) WHERE active")
    op.execute("""
        CREATE TABLE flows.revisions (
            flow_id uuid NOT NULL,
            revision integer NOT NULL,
            definition jsonb NOT NULL,
            published_at timestamptz NOT NULL,
            PRIMARY KEY (flow_id, revision)
        )""")
    _executions()
    _auto_replies()


def _executions() -> None:
    op.execute("""
        CREATE TABLE flows.executions (
            execution_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            flow_id uuid NOT NULL,
            revision integer NOT NULL,
            contact text NOT NULL,
            sender_id text NOT NULL,
            status text NOT NULL,
            active boolean NOT NULL,
            node text,
            waiting_for text,
            waiting_until timestamptz,
            steps integer NOT NULL DEFAULT 0,
            reason text,
            started_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            ended_at timestamptz
        )""")
    # at most one active execution per (flow, contact): the claim a start makes
    op.execute("CREATE UNIQUE INDEX executions_one_active ON flows.executions (flow_id, contact) WHERE active")
    op.execute("CREATE INDEX executions_of_contact ON flows.executions (org_id, contact) WHERE active")
    op.execute("CREATE INDEX executions_of_flow ON flows.executions (flow_id, started_at DESC, execution_id)")
    op.execute("CREATE INDEX executions_overdue ON flows.executions (waiting_until) WHERE active")


def _auto_replies() -> None:
    op.execute("""
        CREATE TABLE flows.auto_replies (
            rule_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            spec jsonb NOT NULL,
            active boolean NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""")
    op.execute("CREATE INDEX auto_replies_by_org ON flows.auto_replies (org_id, rule_id)")
    op.execute("""
        CREATE TABLE flows.auto_reply_sends (
            message_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            rule_id uuid NOT NULL,
            contact text NOT NULL,
            inbound_id text NOT NULL,
            sent_at timestamptz NOT NULL
        )""")
    op.execute("CREATE INDEX auto_reply_sends_recent ON flows.auto_reply_sends (org_id, contact, sent_at)")
