"""`?limit=&cursor=` for every list."""

from __future__ import annotations

from fastapi import Query

from ..read_models.queries import BadCursor
from switchboard_runtime.http.errors import ApiError


class Page:
    def __init__(self, limit: int = Query(50, ge=1, le=200), cursor: str | None = Query(None, max_length=500)):
        self.limit, self.cursor = limit, cursor


async def paged(fetch, *args, page: Page):
    try:
        return await fetch(*args, page.cursor, page.limit)
    except BadCursor as exc:
        raise ApiError(400, "bad_cursor", str(exc)) from exc
