"""The templates' read rows: each written whole from its aggregate after every change (in the
transaction that holds the row's lock), so a read shows the change at once and any later change
repairs a row a crash left behind."""

from __future__ import annotations

import json

from sqlalchemy import text

from .domain.template import MessageTemplate
from .tables import SCHEMA

T = f"{SCHEMA}.templates"
LOCK = text(f"SELECT * FROM {T} WHERE id = :id AND org_id = :org FOR UPDATE")
BY_NAME = text(f"SELECT * FROM {T} WHERE org_id = :org AND waba_id = :waba AND name = :name AND language = :language")
UPSERT = text(f"""
    INSERT INTO {T} (id, org_id, sender_id, waba_id, name, language, category, parameter_format, components,
                     status, reason, quality_score, meta_template_id, read_only, version, created_at, updated_at)
    VALUES (:id, :org, :sender, :waba, :name, :language, :category, :format, CAST(:components AS jsonb),
            :status, :reason, :quality, :meta_id, :read_only, :version, :created_at, :updated_at)
    ON CONFLICT (id) DO UPDATE SET sender_id = excluded.sender_id, category = excluded.category,
        parameter_format = excluded.parameter_format, components = excluded.components, status = excluded.status,
        reason = excluded.reason, quality_score = excluded.quality_score,
        meta_template_id = excluded.meta_template_id, version = excluded.version, updated_at = excluded.updated_at
    WHERE {T}.version < excluded.version""")
DELETE = text(f"DELETE FROM {T} WHERE id = :id")


def values(t: MessageTemplate) -> dict:
    return {"id": str(t.id), "org": t.org_id, "sender": t.sender_id, "waba": t.waba_id, "name": t.name,
            "language": t.language, "category": t.category, "format": t.parameter_format,
            "components": json.dumps(t.components), "status": t.status, "reason": t.reason,
            "quality": t.quality_score, "meta_id": t.meta_template_id, "read_only": t.read_only,
            "version": t.version, "created_at": t.created_on, "updated_at": t.modified_on}


async def write(conn, t: MessageTemplate) -> None:
    await conn.execute(DELETE if t.deleted else UPSERT, values(t))


def shape(r) -> dict:
    return {"id": r.id, "sender_id": r.sender_id, "waba_id": r.waba_id, "name": r.name, "language": r.language,
            "category": r.category, "parameter_format": r.parameter_format, "components": r.components,
            "status": r.status, "reason": r.reason, "quality_score": r.quality_score,
            "meta_template_id": r.meta_template_id, "read_only": r.read_only, "version": r.version,
            "created_at": r.created_at, "updated_at": r.updated_at}
