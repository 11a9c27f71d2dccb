"""A flow's (or an auto-reply's) message that names a template, looked up before its command is built:
the sender's business account (`flows.senders`) and the template there — or, for another provider's
sender, the organization's of that name and language, a sendable one first — in one query, from the
tables `templates_projection.py` keeps; then the domain decides (`domain/template_check.py`). The content
goes on with Meta's components and the text the customer reads, as given, or not at all (TemplateRefused)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.content import Template

from .domain.template_check import KnownTemplate, check_template_send
from .tables import SCHEMA

LOOKUP = text(f"""
    SELECT s.waba_id AS meta_account, t.waba_id, t.status, t.parameter_format, t.components, t.template_id
    FROM (SELECT 1) AS one
    LEFT JOIN {SCHEMA}.senders s
           ON s.org_id = :org AND s.sender_id = :sender AND s.provider = 'meta-cloud' AND s.waba_id IS NOT NULL
    LEFT JOIN LATERAL (
        SELECT * FROM {SCHEMA}.templates t
        WHERE t.org_id = :org AND t.name = :name AND t.language = :language
          AND (s.waba_id IS NULL OR t.waba_id = s.waba_id)
        ORDER BY t.status IN ('APPROVED', 'FLAGGED') DESC, t.components IS NOT NULL DESC, t.updated_at DESC
        LIMIT 1) t ON true""")


class TemplateSends:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def fill(self, org_id: str, sender_id: str, content: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """(the content to send, the text the customer reads — None but for a prepared template). A content
        that is no template, or no valid one (the send command's own checks then say why), goes as it is.
        Raises TemplateRefused."""
        if content.get("type") != "template":
            return content, None
        try:
            send = Template.model_validate(content.get("template"))
        except ValidationError:
            return content, None
        async with self.engine.connect() as conn:
            row = (await conn.execute(LOOKUP, {"org": org_id, "sender": sender_id, "name": send.name,
                                               "language": send.language})).one()
        known = None if row.status is None else KnownTemplate(
            waba_id=row.waba_id, status=row.status, parameter_format=row.parameter_format,
            components=row.components, template_id=row.template_id)
        prepared = check_template_send(send, known, row.meta_account)
        if prepared is None:
            return content, None
        return {**content, "template": prepared.template}, prepared.rendered
