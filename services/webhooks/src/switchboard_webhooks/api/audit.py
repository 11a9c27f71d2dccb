"""`GET /v1/audit/export?since=&until=` (admins only): the organization's events in the range as a
tamper-evident audit file (JSON lines: a header, each event with its stream sequence and a hash chain,
a signed manifest), streamed as it is read — the same file `switchboard events export-audit` writes,
checked by `switchboard events verify` (docs/audit.md)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from switchboard_contracts.envelope import utcnow
from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.messaging.history import audit_export

from .deps import Deps, caller, deps

router = APIRouter(tags=["audit"])
RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"


def moment(value: str, field: str) -> datetime:
    """An RFC 3339 time with its offset (a date that does not exist is a 422)."""
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise ApiError(422, "validation_error", f"{field}: not a time", {"field": field}) from exc
NDJSON = "application/x-ndjson"


@router.get("/v1/audit/export", response_class=StreamingResponse,
            responses={**responses(401, 403, 422), 200: {"content": {NDJSON: {"schema": {"type": "string"}}},
                                                         "description": "The audit file, streamed"}})
async def export(since: str = Query(pattern=RFC3339, json_schema_extra={"format": "date-time"},
                                   description="events stored from this time (RFC 3339, with its offset)…"),
                 until: str | None = Query(None, pattern=RFC3339, json_schema_extra={"format": "date-time"},
                                           description="…until this time (default: now); not before `since`"),
                 who: Caller = Depends(caller), d: Deps = Depends(deps)):
    if who.role != "admin":
        raise ApiError(403, "forbidden", "the audit export is for admins")
    start = moment(since, "since")
    end: datetime = moment(until, "until") if until else utcnow()
    if end < start:
        raise ApiError(422, "validation_error", "until is before since", {"field": "until"})
    lines = audit_export(d.js, who.org, start, end, d.settings.secret_key.get_secret_value())
    return StreamingResponse(lines, media_type=NDJSON, headers={
        "content-disposition": f'attachment; filename="audit-{who.org}-{start:%Y%m%dT%H%M%S}.jsonl"'})
