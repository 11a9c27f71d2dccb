"""Template holds: Meta pauses a template (PAUSED: its messages wait) or disables it (DISABLED: they
fail), per WhatsApp Business Account, name and language; any other status it reports lifts the hold.
What a report is, the key it is kept under, and whether it replaces the one recorded: a report older
(by `at`) than the recorded one changes nothing, and so does the same report again. Pure values."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PAUSED, DISABLED = "PAUSED", "DISABLED"
HOLDING = frozenset({PAUSED, DISABLED})
_PLAIN = re.compile(r"[A-Za-z0-9_-]+")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _part(value: str) -> str:
    """A key token as is when NATS allows it, else `=` + base64url (unambiguous: `=` is never plain)."""
    if _PLAIN.fullmatch(value):
        return value
    return "=" + base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class TemplateKey:
    """One template of an organization's account: Meta names it by WABA, name and language."""

    org_id: str
    waba_id: str
    name: str
    language: str

    @property
    def kv_key(self) -> str:
        return ".".join(_part(p) for p in (self.org_id, self.waba_id, self.name, self.language))


@dataclass(frozen=True)
class TemplateReport:
    """The last status reported for a template, with when it was reported."""

    key: TemplateKey
    status: str
    at: datetime

    @property
    def hold(self) -> str | None:
        """PAUSED, DISABLED, or None: the status lifts any hold."""
        return self.status if self.status in HOLDING else None

    def replaces(self, recorded: TemplateReport | None) -> bool:
        """Whether this report is to be recorded over `recorded`: newer or as new, and not the same."""
        if recorded is None:
            return True
        return self.at >= recorded.at and (self.status, self.at) != (recorded.status, recorded.at)

    def to_json(self) -> dict[str, Any]:
        k = self.key
        return {"org_id": k.org_id, "waba_id": k.waba_id, "name": k.name, "language": k.language,
                "status": self.status, "at": self.at.isoformat()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TemplateReport:
        return cls(TemplateKey(doc["org_id"], doc["waba_id"], doc["name"], doc["language"]),
                   doc["status"], _aware(datetime.fromisoformat(doc["at"])))


def report_of(org_id: str, waba_id: str, name: str | None, language: str | None, status: str,
              at: datetime) -> TemplateReport | None:
    """A status report as held (status upper-cased); None when it does not name the template."""
    if not waba_id or not name or not language:
        return None
    return TemplateReport(TemplateKey(org_id, waba_id, name, language), status.strip().upper(), _aware(at))
