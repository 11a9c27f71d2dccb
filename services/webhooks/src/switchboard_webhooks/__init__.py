"""Switchboard webhooks service: events out to the organizations' HTTP endpoints."""
