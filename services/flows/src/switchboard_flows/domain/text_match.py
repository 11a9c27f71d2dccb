"""Matching inbound text the way triggers and conditions do: case- and accent-insensitive (casefold,
then NFKD with the combining marks dropped), with runs of whitespace counting as one space and the
ends trimmed for `equals`, `contains`, `starts_with` and `one_of`; `regex` searches the folded text
(whitespace kept) with a pattern compiled by RE2, case-insensitively.

Bounded in time: RE2 matches in time linear in the text (no backtracking, so `(a+)+$` cannot blow
up), patterns are at most `MAX_PATTERN_CHARS`, and only the first `MAX_MATCH_CHARS` characters of a
text are matched (WhatsApp's own limit for a text message)."""

from __future__ import annotations

import unicodedata
from typing import Any

import re2

MAX_MATCH_CHARS = 4096
MAX_PATTERN_CHARS = 1000
TEXT_OPS = ("equals", "contains", "starts_with", "regex", "one_of")


class RegexRejected(ValueError):
    """A pattern RE2 cannot compile (backreferences, lookarounds, bad syntax), with its reason."""


def strip_marks(text: str) -> str:
    """NFKD with the combining marks (accents) dropped: `Ação` → `Acao`."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Case and accents removed (whitespace kept): what a regex is matched against."""
    return strip_marks(text[:MAX_MATCH_CHARS].casefold())


def squash(text: str) -> str:
    """Folded, whitespace runs as one space, ends trimmed: what the other text ops compare."""
    return " ".join(fold(text).split())


def compile_regex(pattern: str) -> Any:
    """An RE2 pattern, case-insensitive and with accents stripped from its literals (so `não`
    matches `NAO`); RegexRejected with a reason a user can act on."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RegexRejected(f"is longer than {MAX_PATTERN_CHARS} characters")
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    try:
        return re2.compile(strip_marks(pattern), options)
    except re2.error as error:
        reason = error.args[0] if error.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexRejected(f"is not a valid RE2 regular expression ({reason}); RE2 has no "
                            "backreferences or lookarounds") from None


def text_matches(op: str, text: str, value: Any, pattern: Any = None) -> bool:
    """Whether `text` matches `value` by a text op (`pattern` is the compiled `value` for regex)."""
    if op == "regex":
        return (pattern or compile_regex(value)).search(fold(text)) is not None
    subject = squash(text)
    if op == "one_of":
        return any(subject == squash(v) for v in value)
    wanted = squash(value)
    if op == "equals":
        return subject == wanted
    if op == "contains":
        return wanted in subject
    if op == "starts_with":
        return subject.startswith(wanted)
    raise ValueError(f"unknown text op {op!r}")
