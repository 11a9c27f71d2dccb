"""A send that names a template, checked before its command is published: through a Meta sender, the
template must exist in the sender's account and be APPROVED, and the parameters must fill its
variables exactly; the command then carries Meta's components and the text the customer will read.
Through another provider or a pool, a template the organization has (any account) is checked the same
way; one it does not have goes as given (Switchboard cannot know its text)."""

from __future__ import annotations

from sqlalchemy import text

from switchboard_contracts.content import Template
from switchboard_runtime.http.errors import ApiError

from . import template_table as table
from .directory import Directory
from .domain.template import SENDABLE
from switchboard_contracts.template_send import Prepared, SendMismatch, prepare

ANY_ACCOUNT = text(f"""SELECT * FROM {table.T} WHERE org_id = :org AND name = :name AND language = :language
                       ORDER BY status = 'APPROVED' DESC, updated_at DESC LIMIT 1""")


class TemplateSends:
    def __init__(self, engine, directory: Directory):
        self.engine, self.directory = engine, directory

    async def prepare(self, org_id: str, sender_id: str | None, template: Template | None,
                      cache: dict | None = None) -> Prepared | None:
        """`cache`: lookups kept for the caller's batch (the same template for many sends)."""
        if template is None:
            return None
        key = (org_id, sender_id, template.name, template.language)
        if cache is not None and key in cache:
            sender, row = cache[key]
        else:
            sender, row = await self._lookup(org_id, sender_id, template)
            if cache is not None:
                cache[key] = (sender, row)
        if row is None:
            if sender is None and template.parameters is None:
                return None  # not a Meta sender, and a template we do not know: as given
            where = f"the account {sender.waba_id}" if sender is not None and sender.waba_id else "the organization"
            raise ApiError(422, "template_not_found", f"{where} has no template {template.name!r} in "
                           f"{template.language} (see /v1/templates)", {"field": "template.name"})
        if row.status not in SENDABLE:
            raise ApiError(422, "template_not_approved", f"the template {template.name!r} ({template.language}) is "
                           f"{row.status}: only an APPROVED template may be sent",
                           {"field": "template.name", "status": row.status, "template_id": row.id})
        try:
            return prepare(template, row.components, row.parameter_format)
        except SendMismatch as exc:
            raise ApiError(422, "template_parameters", str(exc), {
                "field": "template.parameters", "missing": exc.missing, "extra": exc.extra,
                "template_id": row.id}) from exc
        except ValueError as exc:  # a value Meta would refuse where it goes (a header text over 60 characters)
            raise ApiError(422, "validation_error", f"template.parameters: {exc}",
                           {"field": "template.parameters"}) from exc

    async def _lookup(self, org_id: str, sender_id: str | None, template: Template):
        sender = await self.directory.meta_sender(org_id, sender_id, wait=False) if sender_id else None
        async with self.engine.connect() as conn:
            if sender is not None and sender.waba_id:
                row = (await conn.execute(table.BY_NAME, {"org": org_id, "waba": sender.waba_id,
                                                          "name": template.name, "language": template.language})).first()
            else:
                row = (await conn.execute(ANY_ACCOUNT, {"org": org_id, "name": template.name,
                                                        "language": template.language})).first()
        return sender, row
