"""`GET/PATCH /v1/inbox-settings`: the organization's inbox settings (auto-resolve)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import ConfigDict, StrictBool, model_validator

from switchboard_contracts.numbers import whole
from switchboard_runtime.http.openapi import responses

from .app import Deps, deps, org_of
from .inbox_schemas import Strict

router = APIRouter(prefix="/v1/inbox-settings", tags=["inbox"])


class InboxSettingsPatch(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["auto_resolve"]}, {"required": ["auto_resolve_after_seconds"]}]})
    auto_resolve: StrictBool = None
    auto_resolve_after_seconds: whole(ge=1, le=90 * 86_400) = None

    @model_validator(mode="after")
    def _some(self):
        if self.auto_resolve is None and self.auto_resolve_after_seconds is None:
            raise ValueError("give auto_resolve, auto_resolve_after_seconds or both")
        return self


@router.get("", responses=responses(401, 503))
async def get_settings(org: str = Depends(org_of), d: Deps = Depends(deps)):
    return await d.inbox_settings.get(org)


@router.patch("", responses=responses(400, 401, 422, 503))
async def update_settings(body: InboxSettingsPatch, org: str = Depends(org_of), d: Deps = Depends(deps)):
    """`auto_resolve`: an open conversation without activity for `auto_resolve_after_seconds` (24 hours
    unless set) is resolved by itself."""
    return await d.inbox_settings.update(org, body.auto_resolve, body.auto_resolve_after_seconds)
