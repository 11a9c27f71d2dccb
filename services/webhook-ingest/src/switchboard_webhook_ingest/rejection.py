"""A webhook answered with an error status (and nothing published)."""

from __future__ import annotations

from pydantic import ValidationError


class Rejected(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def reason_of(exc: Exception) -> str:
    """The first problem of a validation error, with where it is."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return f"{where}: {first.get('msg')}"
    return str(exc)
