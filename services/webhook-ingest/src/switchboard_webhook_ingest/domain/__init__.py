"""Pure normalization of provider webhooks into facts (no I/O)."""
