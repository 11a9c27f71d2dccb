"""What the flows service consumes: inbound messages, statuses of what it sent, fired timers, effects."""
