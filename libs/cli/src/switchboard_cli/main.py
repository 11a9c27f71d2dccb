"""`switchboard`: the operators' command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="Switchboard operators' tools.", no_args_is_help=True)
events = typer.Typer(help="Replay, export and verify the event history; dead letters.", no_args_is_help=True)
app.add_typer(events, name="events")
