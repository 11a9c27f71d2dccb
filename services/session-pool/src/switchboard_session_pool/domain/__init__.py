"""Pure domain: the Sender aggregate and quota policy. No I/O."""
