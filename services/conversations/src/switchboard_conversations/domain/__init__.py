"""Pure domain: the Conversation aggregate and the status merge. No I/O."""
