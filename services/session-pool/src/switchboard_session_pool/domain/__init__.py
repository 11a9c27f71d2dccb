"""Pure domain: the Sender aggregate, quota, health, pair-rate and selection policies, provider error
decisions, and the outbound message and its send result. No I/O."""
