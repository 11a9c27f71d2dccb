"""The flows domain: definitions, their validation, executions and auto-reply rules (no I/O)."""
