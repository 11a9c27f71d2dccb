"""What executions do outside themselves: HTTP calls and e-mail."""
