"""Cursor (keyset) pagination for every list: `?limit=&cursor=` → `{"items": [...], "next_cursor"}`.
A cursor is the (sort key, id) of the last item shown, opaque to the client."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Query
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import ApiError


class BadCursor(ValueError):
    pass


def encode_cursor(*key: Any) -> str:
    raw = json.dumps([k.isoformat() if isinstance(k, datetime) else k for k in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if not isinstance(key, list) or len(key) != 2:
            raise ValueError
        return [datetime.fromisoformat(key[0]), str(key[1])]
    except (ValueError, TypeError) as exc:
        raise BadCursor("cursor is not one this API issued") from exc


class Page:
    def __init__(self, limit: int = Query(50, ge=1, le=200),
                 cursor: str | None = Query(None, max_length=500, json_schema_extra={"format": "cursor"},
                                            description="`next_cursor` of the previous page")):
        self.limit, self.cursor = limit, cursor


async def paged(fetch, *args, page: Page):
    try:
        return await fetch(*args, page.cursor, page.limit)
    except BadCursor as exc:
        raise ApiError(400, "bad_cursor", str(exc)) from exc


async def keyset_page(engine: AsyncEngine, sql: str, order: str, cursor: str | None, limit: int,
                      key: str, shape: Callable, *, id_column: str = "id", **params) -> dict:
    """`sql` selects with a WHERE clause; the page continues after the cursor's (key, id) in `order`
    ("ASC" or "DESC")."""
    op = "<" if order == "DESC" else ">"
    if cursor:
        at, last_id = decode_cursor(cursor)
        sql += f" AND ({key}, {id_column}) {op} (:c_at, :c_id)"
        params.update(c_at=at, c_id=last_id)
    sql += f" ORDER BY {key} {order}, {id_column} {order} LIMIT :lim"
    async with engine.connect() as conn:
        rows = list(await conn.execute(text(sql), {**params, "lim": limit + 1}))
    items = [shape(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(getattr(last, key), getattr(last, id_column))
    return {"items": items, "next_cursor": next_cursor}
