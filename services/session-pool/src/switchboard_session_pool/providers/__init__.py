"""Providers: how a message actually leaves — the simulator, Meta's Cloud API and WAHA (WhatsApp Web),
behind `router.py` by the sender's kind."""
