"""Embedded development infrastructure: NATS and PostgreSQL from pip wheels, and the dev supervisor."""
