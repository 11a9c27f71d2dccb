"""Users (with a role and a personal API key) and teams: the gateway owns them; each change is recorded
with its user.* / team.* event in one transaction (the outbox) and published after commit."""
