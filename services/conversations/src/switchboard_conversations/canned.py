"""Canned responses: an organization's saved replies, found by `short_code` (unique per organization),
with the campaigns' placeholders (`{{contact.name|there}}`, `{{contact.phone}}`) filled in for the
conversation's contact when an agent replies with one."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.ids import new_id
from switchboard_contracts.placeholders import MissingVariable, Placeholders, TemplateError
from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.pagination import keyset_page

from .tables import SCHEMA

T = f"{SCHEMA}.canned_responses"


def shape(r) -> dict:
    return {"id": r.id, "short_code": r.short_code, "content": r.content, "created_at": r.created_at,
            "updated_at": r.updated_at}


VARIABLES = ("contact.name", "contact.phone")


def _invalid(message: str) -> ApiError:
    return ApiError(422, "validation_error", f"content: {message}",
                    {"field": "content", "fields": [{"field": "content", "message": message}]})


def check(content: str) -> None:
    """422 naming `content` when its placeholders are malformed or name an unknown variable."""
    try:
        unknown = sorted(Placeholders.parse(content, dotted=True).variables - set(VARIABLES))
    except TemplateError as exc:
        raise _invalid(exc.reason) from exc
    if unknown:
        raise _invalid(f"unknown placeholder {unknown[0]!r} (known: {', '.join(VARIABLES)})")


def render(content: str, contact: str, contact_name: str | None) -> str:
    """The content for this contact; a placeholder with neither a value nor a default is a 422."""
    values = {"contact.name": contact_name, "contact.phone": contact}
    try:
        return Placeholders.parse(content, dotted=True).render_with(values.get)
    except MissingVariable as exc:
        raise ApiError(422, "validation_error", str(exc), {"field": "canned", "fields": [
            {"field": "canned", "message": str(exc)}]}) from exc


def _duplicate(short_code: str) -> ApiError:
    return ApiError(409, "conflict", f"a canned response with short_code {short_code!r} exists",
                    {"field": "short_code"})


class CannedResponses:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create(self, org_id: str, short_code: str, content: str) -> dict:
        check(content)
        try:
            async with self.engine.begin() as conn:
                r = (await conn.execute(text(
                    f"INSERT INTO {T} (id, org_id, short_code, content) VALUES (:id, :org, :code, :content) "
                    "RETURNING *"), {"id": new_id(), "org": org_id, "code": short_code, "content": content})).first()
        except IntegrityError as exc:
            raise _duplicate(short_code) from exc
        return shape(r)

    async def get(self, org_id: str, canned_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(text(f"SELECT * FROM {T} WHERE id = :id AND org_id = :org"),
                                    {"id": canned_id, "org": org_id})).first()
        return shape(r) if r else None

    async def by_code(self, org_id: str, short_code: str) -> dict | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(text(f"SELECT * FROM {T} WHERE short_code = :code AND org_id = :org"),
                                    {"code": short_code, "org": org_id})).first()
        return shape(r) if r else None

    async def page(self, org_id: str, cursor: str | None, limit: int) -> dict:
        return await keyset_page(self.engine, f"SELECT * FROM {T} WHERE org_id = :org", "ASC", cursor, limit,
                                 "created_at", shape, org=org_id)

    async def update(self, org_id: str, canned_id: str, short_code: str | None, content: str | None) -> dict | None:
        if content is not None:
            check(content)
        try:
            async with self.engine.begin() as conn:
                r = (await conn.execute(text(
                    f"UPDATE {T} SET short_code = COALESCE(:code, short_code), content = COALESCE(:content, content),"
                    " updated_at = now() WHERE id = :id AND org_id = :org RETURNING *"),
                    {"id": canned_id, "org": org_id, "code": short_code, "content": content})).first()
        except IntegrityError as exc:
            raise _duplicate(short_code or "") from exc
        return shape(r) if r else None

    async def delete(self, org_id: str, canned_id: str) -> bool:
        async with self.engine.begin() as conn:
            r = await conn.execute(text(f"DELETE FROM {T} WHERE id = :id AND org_id = :org"),
                                   {"id": canned_id, "org": org_id})
        return r.rowcount > 0
