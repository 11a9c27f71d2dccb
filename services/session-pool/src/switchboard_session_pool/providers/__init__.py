"""Providers: how a message actually leaves (simulator now; Meta Cloud API and WAHA later)."""
