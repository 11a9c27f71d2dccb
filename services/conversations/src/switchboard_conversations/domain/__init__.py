"""Pure domain: the Conversation aggregate. No I/O."""
