"""The senders' lifecycle: their commands (register, update, pause, resume, remove, simulate), the
connection attempts and WAHA session events, the routes webhook-ingest follows, restoring them on
start, keeping this replica's view current, the directory of labels, and live answers to the gateway."""
