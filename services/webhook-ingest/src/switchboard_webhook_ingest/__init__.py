"""webhook-ingest: verifies and normalizes Meta Cloud API and WAHA webhooks into public events."""
