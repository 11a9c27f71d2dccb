"""The session-pool's schema: `outbound_messages` (claims and outcomes) and `simulator_sends` (the
simulator's record of sends), created by the Alembic migrations beside this file."""

SCHEMA = "session_pool"
