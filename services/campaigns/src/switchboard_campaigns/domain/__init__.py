"""The campaigns domain: pure, no I/O."""
