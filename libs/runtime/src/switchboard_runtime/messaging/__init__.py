"""JetStream plumbing: declaration, publishing, batch consumers, readiness heartbeats."""
