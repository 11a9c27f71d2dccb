"""Reading a contact upload — a `text/csv` body streamed, or JSON `{"contacts": [...]}` — into an
all-or-nothing upload (a campaign's or a broadcast list's)."""

from __future__ import annotations

from fastapi import Request
from pydantic import ValidationError

from switchboard_runtime.http.errors import ApiError

from ..domain.contacts import BadUpload, CsvImport, ImportReport, read_json
from .schemas import ContactsIn

CSV_TYPES = ("text/csv", "application/csv", "text/plain")


async def read_upload(request: Request, region: str | None, required: set[str], upload_cm):
    """(the report, the upload) once every valid contact is stored; nothing is stored on a 4xx."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in CSV_TYPES:
        report = ImportReport()
        importer = CsvImport(default_region=region, required=required, report=report)
        try:
            async with upload_cm as upload:
                async for batch in importer.batches(request.stream()):
                    await upload.add(batch)
        except BadUpload as exc:  # nothing of this upload is kept
            raise ApiError(422, "bad_upload", str(exc), {"rows_read": report.rows_seen}) from exc
        return report, upload
    if content_type == "application/json":
        try:
            body = ContactsIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise ApiError(422, "validation_error", "invalid contacts", {"fields": [
                {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]}) from exc
        contacts, report = read_json([c.model_dump() for c in body.contacts], default_region=region,
                                     required=required)
        async with upload_cm as upload:
            for i in range(0, len(contacts), 1000):
                await upload.add(contacts[i:i + 1000])
        return report, upload
    raise ApiError(415, "unsupported_media_type", "send application/json or text/csv")


def answer(report: ImportReport, upload) -> dict:
    out = report.as_dict()
    out.update(accepted=upload.added, duplicates=report.duplicates + upload.duplicates)
    return out
