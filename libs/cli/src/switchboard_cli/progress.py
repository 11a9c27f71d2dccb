"""The progress bar every long command shows (on stderr), and its summary line."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)


def bar(description: str) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=err, transient=False)


class Counter:
    """Counts what went through and how fast; `summary()` is the line a command ends with."""

    def __init__(self, what: str = "events"):
        self.what, self.count, self.started = what, 0, time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def summary(self, verb: str) -> str:
        return f"{verb} {self.count} {self.what} in {self.seconds:.2f} s ({self.rate:,.0f} {self.what}/s)"
