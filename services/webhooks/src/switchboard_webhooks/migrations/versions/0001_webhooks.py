"""endpoints (with their sealed secrets, their position in SWITCHBOARD_EVENTS, the head of line's retry
state and the lease of the replica delivering to them), attempts, recover/resend jobs, the outbox

Revision ID: 0001
Revises:
"""
from alembic import op

from switchboard_runtime import outbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS webhooks")
    # position: the last stream sequence this endpoint is done with (delivered, or given up after the
    # whole schedule); head_*: the event at the head of its line while it is being retried
    op.execute("""
        CREATE TABLE webhooks.endpoints (
            id text PRIMARY KEY, org_id text NOT NULL, url text NOT NULL, event_types text[] NOT NULL,
            description text NOT NULL DEFAULT '', enabled boolean NOT NULL,
            disabled_reason text, disabled_detail text, disabled_at timestamptz,
            secrets text NOT NULL, version bigint NOT NULL DEFAULT 1,
            position bigint NOT NULL, head_seq bigint, head_attempts integer NOT NULL DEFAULT 0,
            head_next_at timestamptz, failing_since timestamptz,
            owner text, lease_until timestamptz,
            created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)""")
    op.execute("CREATE INDEX endpoints_by_org ON webhooks.endpoints (org_id, created_at, id)")
    op.execute("""
        CREATE TABLE webhooks.attempts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, endpoint_id text NOT NULL, org_id text NOT NULL,
            event_id text NOT NULL, event_type text NOT NULL, sequence bigint NOT NULL, attempt integer NOT NULL,
            trigger text NOT NULL, status text NOT NULL, http_status integer, latency_ms integer NOT NULL,
            error text, at timestamptz NOT NULL)""")
    op.execute("CREATE INDEX attempts_by_endpoint ON webhooks.attempts (endpoint_id, at DESC, id DESC)")
    op.execute("CREATE INDEX attempts_by_event ON webhooks.attempts (endpoint_id, event_id)")
    op.execute("CREATE INDEX attempts_by_time ON webhooks.attempts (at)")
    # recover (a time range, exact from the stream) and resend (one event): cursor = last sequence done
    op.execute("""
        CREATE TABLE webhooks.jobs (
            id text PRIMARY KEY, endpoint_id text NOT NULL REFERENCES webhooks.endpoints (id) ON DELETE CASCADE,
            org_id text NOT NULL, kind text NOT NULL, since timestamptz, until timestamptz,
            sequence bigint, cursor bigint NOT NULL DEFAULT 0, status text NOT NULL,
            delivered integer NOT NULL DEFAULT 0, failed integer NOT NULL DEFAULT 0, error text,
            created_at timestamptz NOT NULL, finished_at timestamptz)""")
    op.execute("CREATE INDEX jobs_by_endpoint ON webhooks.jobs (endpoint_id, created_at DESC, id)")
    op.execute("CREATE INDEX jobs_open ON webhooks.jobs (endpoint_id) WHERE status IN ('queued', 'running')")
    op.create_table("outbox", *outbox.columns(), schema="webhooks")


def downgrade() -> None:
    op.drop_table("outbox", schema="webhooks")
    op.execute("DROP TABLE webhooks.jobs")
    op.execute("DROP TABLE webhooks.attempts")
    op.execute("DROP TABLE webhooks.endpoints")
