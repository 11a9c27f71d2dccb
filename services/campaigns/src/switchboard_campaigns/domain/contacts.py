"""A campaign's contacts as an import yields them, and what an import reports: phones normalized to
E.164, duplicates dropped, bad rows listed by line with a reason. The readers are `csv_import.py` (a
streamed CSV upload) and `json_import.py` (a JSON list): both hand their rows to `ContactRows`. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .deduper import Deduper
from .phones import InvalidPhone, check_region, normalize

REJECTED_KEPT = 1_000       # rejected rows listed in the report; the rest are only counted


@dataclass(frozen=True)
class Contact:
    phone: str                  # E.164
    name: str | None
    variables: dict[str, str]   # names lowercase, spaces as "_"; empty values are absent


@dataclass(frozen=True)
class Rejected:
    line: int    # CSV: 1-based line in the file, the header being line 1; JSON: 1-based index
    reason: str


class BadUpload(Exception):
    """The upload as a whole cannot be read (encoding, header): nothing of it is imported."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ImportReport:
    """The running tally of one import; `rows_seen` and `bytes_read` grow as it goes (progress)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.duplicates = 0
        self.rejected: list[Rejected] = []   # the first REJECTED_KEPT
        self.rejected_count = 0
        self.rows_seen = 0                   # data rows, blank lines not counted
        self.bytes_read = 0

    def reject(self, line: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < REJECTED_KEPT:
            self.rejected.append(Rejected(line, reason))

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
                "rejected_total": self.rejected_count, "rows": self.rows_seen}


class ContactRows:
    """Turns rows (CSV or JSON, already split into fields) into contacts and report entries."""

    def __init__(self, report: ImportReport, default_region: str | None, required: Iterable[str]):
        self.report = report
        self.region = check_region(default_region)
        self.required = {name.strip() for name in required}   # as the content spells them
        self.dedupe = Deduper()

    def contact(self, line: int, phone: str, name: str | None, variables: dict[str, str]) -> Contact | None:
        self.report.rows_seen += 1
        try:
            e164 = normalize(phone, self.region)
        except InvalidPhone as exc:
            self.report.reject(line, exc.reason)
            return None
        if self.required:
            missing = self.required.difference(variables, ("phone", "name") if name else ("phone",))
            if missing:
                names = ", ".join("{{%s}}" % m for m in sorted(missing))
                self.report.reject(line, f"missing variable{'s' if len(missing) > 1 else ''} {names}")
                return None
        if self.dedupe.seen(e164):
            self.report.duplicates += 1
            return None
        self.report.accepted += 1
        return Contact(e164, name, variables)


def variable_name(column: str) -> str:
    """A column (or JSON key) as a variable name: lowercase, spaces inside as `_` ("Due Date" →
    "due_date", so that `{{due_date}}` can use it)."""
    return "_".join(column.lower().split())
