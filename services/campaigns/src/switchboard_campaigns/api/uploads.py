"""Reading a contact upload — a `text/csv` body streamed, or JSON `{"contacts": [...]}` — into an
all-or-nothing upload (a campaign's or a broadcast list's), its progress recorded as it goes
(`imports.py`: rows and bytes read, contacts accepted; `GET …/imports` follows it)."""

from __future__ import annotations

from fastapi import Request
from pydantic import ValidationError

from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.openapi import json_body

from ..domain.contacts import BadUpload, ImportReport
from ..domain.csv_import import CsvImport
from ..domain.json_import import read_json
from ..imports import ImportLog
from .schemas import ContactsIn

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
SIZE_HEADERS = ("x-upload-length", "content-length")  # the gateway passes the client's size as the first
# the body a contact upload takes: JSON, or a CSV (a header row naming `phone`, `name` and variables)
CONTACTS_BODY = json_body(ContactsIn, text_csv={"schema": {"type": "string"}})


def _size(request: Request) -> int | None:
    for name in SIZE_HEADERS:
        value = request.headers.get(name, "")
        if value.isdigit():
            return int(value)
    return None


async def read_upload(request: Request, region: str | None, required: set[str], upload_cm, imports: ImportLog,
                      org: str, target: str, target_id: str):
    """(the report, the upload, the import id) once every valid contact is stored; nothing is stored
    on a 4xx."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES and content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json or text/csv")
    progress = await imports.begin(org, target, target_id, content_type, _size(request))
    report = ImportReport()
    try:
        if content_type in CSV_TYPES:
            importer = CsvImport(default_region=region, required=required, report=report)
            async with upload_cm as upload:
                def tick():
                    return progress.tick(report, upload.added, report.duplicates + upload.duplicates)
                async for batch in importer.batches(_ticking(request.stream(), tick)):
                    await upload.add(batch)
                    await tick()
        else:
            raw = await request.body()
            try:
                body = ContactsIn.model_validate_json(raw)
            except ValidationError as exc:
                raise ApiError(422, "validation_error", "invalid contacts", {"fields": [
                    {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                    for e in exc.errors()]}) from exc
            contacts, report = read_json([c.model_dump() for c in body.contacts], default_region=region,
                                         required=required)
            report.bytes_read = len(raw)
            async with upload_cm as upload:
                for i in range(0, len(contacts), 1000):
                    await upload.add(contacts[i:i + 1000])
    except BadUpload as exc:  # nothing of this upload is kept
        await progress.failed(report, str(exc))
        raise ApiError(422, "bad_upload", str(exc), {"rows_read": report.rows_seen,
                                                     "import_id": progress.id}) from exc
    except ApiError as exc:
        await progress.failed(report, exc.message)
        raise
    except BaseException:  # the client went away, the database failed, the service stops: nothing kept
        await progress.failed(report, "interrupted: the import stopped before it finished; nothing of it "
                                      "was kept")
        raise
    await progress.done(report, upload.added, report.duplicates + upload.duplicates)
    return report, upload, progress.id


async def _ticking(stream, tick):
    """The body's chunks, with the progress written (at most once a second) as they arrive: a slow
    upload shows its rows and bytes, and does not read as interrupted, before its first full batch."""
    async for chunk in stream:
        yield chunk
        await tick()


def answer(report: ImportReport, upload, import_id: str) -> dict:
    out = report.as_dict()
    out.update(accepted=upload.added, duplicates=report.duplicates + upload.duplicates, import_id=import_id)
    return out
