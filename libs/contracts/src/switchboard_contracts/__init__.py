"""Switchboard's public contracts: events, commands, subjects and stream specs. No I/O."""
