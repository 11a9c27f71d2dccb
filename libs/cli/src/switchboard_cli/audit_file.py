"""`switchboard events export-audit` and `verify`: the tamper-evident audit file (docs/audit.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from datetime import datetime
from pathlib import Path

from switchboard_runtime import audit
from switchboard_runtime.messaging.bus import BusJetStream
from switchboard_runtime.messaging.history import audit_export

from .progress import Counter, bar


async def export_audit(js: BusJetStream, org: str, since: datetime | None, until: datetime, out: Path,
                       secret_key: str, *, show_progress: bool = True) -> Counter:
    counter = Counter()
    audit.signing_key(secret_key)  # no key: fail before the file is created
    progress = bar(f"audit {org}")
    task = progress.add_task(f"audit {org}", total=None, rate="")
    with open(out, "wb") as handle:
        if show_progress:
            progress.start()
        try:
            lines = audit_export(js, org, since, until, secret_key, on_start=lambda n: progress.update(task, total=n))
            async with aclosing(lines):
                async for chunk in lines:
                    handle.write(chunk)
                    counter.count += chunk.count(b"\n")
                    progress.update(task, completed=max(0, counter.count - 1), rate=f"{counter.rate:,.0f}/s")
        finally:
            progress.stop()
    counter.count = max(0, counter.count - 2)  # the header and the manifest are not events
    return counter


def file_lines(path: Path) -> Iterator[bytes]:
    """The file's lines split on b"\\n" only (a binary file iterates so)."""
    with open(path, "rb") as handle:
        yield from handle


def verify_file(path: Path, *, secret_key: str | None = None, public_key: str | None = None) -> audit.VerifyResult:
    return audit.verify_lines(file_lines(path), secret_key=secret_key, public_key=public_key)
