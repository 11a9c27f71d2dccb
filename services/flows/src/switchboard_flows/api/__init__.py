"""The flows HTTP API (behind the gateway)."""
