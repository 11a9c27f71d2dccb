"""`GET /v1/audit/export?since=&until=` (admins only): the organization's events in the range as a
tamper-evident audit file (JSON lines: a header, each event with its stream sequence and a hash chain,
a signed manifest), streamed as it is read — the same file `switchboard events export-audit` writes,
checked by `switchboard events verify` (docs/audit.md)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from switchboard_contracts.envelope import utcnow
from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.messaging.history import audit_export

from .deps import Deps, caller, deps

router = APIRouter(tags=["audit"])
NDJSON = "application/x-ndjson"


@router.get("/v1/audit/export", response_class=StreamingResponse,
            responses={**responses(401, 403, 422), 200: {"content": {NDJSON: {"schema": {"type": "string"}}},
                                                         "description": "The audit file, streamed"}})
async def export(since: AwareDatetime = Query(description="events published from this time…"),
                 until: AwareDatetime | None = Query(None, description="…until this time (default: now)"),
                 who: Caller = Depends(caller), d: Deps = Depends(deps)):
    if who.role != "admin":
        raise ApiError(403, "forbidden", "the audit export is for admins")
    end: datetime = until or utcnow()
    if end <= since:
        raise ApiError(422, "validation_error", "until must be after since", {"field": "until"})
    lines = audit_export(d.js, who.org, since, end, d.settings.secret_key.get_secret_value())
    return StreamingResponse(lines, media_type=NDJSON, headers={
        "content-disposition": f'attachment; filename="audit-{who.org}-{since:%Y%m%dT%H%M%S}.jsonl"'})
