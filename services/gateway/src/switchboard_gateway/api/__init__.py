"""The REST API (FastAPI): thin handlers over the commands the gateway publishes and its read models."""
