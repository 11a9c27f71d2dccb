"""Test support: real NATS and PostgreSQL started by the suite itself (a pytest plugin)."""
