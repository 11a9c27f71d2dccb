"""The campaigns HTTP API (reached through the gateway)."""
