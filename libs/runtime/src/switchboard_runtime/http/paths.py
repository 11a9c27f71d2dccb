"""Path parameters every service's API shares: a resource id is a UUID as the API returns it (a
malformed one is a 422, documented, never a 404 that hides a typo or a redirect)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ResourceId = Annotated[str, Path(pattern=UUID_PATTERN, description="A UUID, as this API returns it")]
