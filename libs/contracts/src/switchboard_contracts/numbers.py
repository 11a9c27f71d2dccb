"""Integers as JSON Schema's `integer` means them, for request bodies: 5 and 5.0 are integers, "5" and
`true` are not (pydantic's lax mode would take those; the published schemas promise otherwise).
Bounds go through `whole(ge=…, le=…)`, so they land on the integer itself (and in the schema as
`minimum`/`maximum`), not on the conversion in front of it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def whole(**bounds: int) -> Any:
    """An integer type with bounds (`ge`, `gt`, `le`, `lt`)."""
    return Annotated[int, Field(strict=True, **bounds), BeforeValidator(_whole)]


WholeNumber = whole()
