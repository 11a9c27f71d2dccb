"""Contacts from a JSON list: the body `{"contacts": [{"phone", "name"?, "variables"?}]}` of one
request, at most MAX_JSON_CONTACTS. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .contacts import BadUpload, Contact, ContactRows, ImportReport, variable_name

MAX_JSON_CONTACTS = 10_000  # per request


def read_json(contacts: list[dict[str, Any]], *, default_region: str | None,
              required: Iterable[str]) -> tuple[list[Contact], ImportReport]:
    """The body `{"contacts": [{"phone", "name"?, "variables"?}]}`; lines are 1-based indexes."""
    if len(contacts) > MAX_JSON_CONTACTS:
        raise BadUpload(f"at most {MAX_JSON_CONTACTS} contacts per request (use a CSV upload)")
    report = ImportReport()
    rows, kept = ContactRows(report, default_region, required), []
    for line, item in enumerate(contacts, 1):
        problem = _json_problem(item)
        if problem:
            report.rows_seen += 1
            report.reject(line, problem)
            continue
        variables = {}
        for key, value in (item.get("variables") or {}).items():
            text = (value if isinstance(value, str) else str(value)).strip()
            if variable_name(key) and text:
                variables[variable_name(key)] = text
        phone = item["phone"] if isinstance(item["phone"], str) else str(item["phone"])
        contact = rows.contact(line, phone, (item.get("name") or "").strip() or None, variables)
        if contact:
            kept.append(contact)
    return kept, report


def _json_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "not an object"
    if not isinstance(item.get("phone"), (str, int)) or isinstance(item.get("phone"), bool):
        return "missing phone number"
    if not isinstance(item.get("name"), (str, type(None))):
        return "name must be text"
    variables = item.get("variables")
    if variables is None:
        return None
    if not isinstance(variables, dict):
        return "variables must be an object"
    for key, value in variables.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            return f"variable {key} must be text or a number"
    return None
