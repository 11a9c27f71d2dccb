"""`/v1/templates`: an organization's message templates per WhatsApp Business Account — create (a
draft, checked as Meta checks it), list, read, edit, delete, submit to Meta, and sync with Meta."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Response

from switchboard_runtime.http.errors import not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses
from switchboard_runtime.http.pagination import Page, paged

from .app import Deps, caller, deps
from .template_schemas import Category, SyncRequest, TemplatePatch, TemplateRequest

router = APIRouter(prefix="/v1/templates", tags=["templates"])
META = "a Graph API error (Meta's code, error_subcode and message in details) or an invalid template"


@router.post("", status_code=201, responses=responses(400, 401, 404, 409, 422, 503,
                                                     s404="the sender is not a Meta sender of the organization"))
async def create(body: TemplateRequest, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """A draft template: checked as Meta checks it (422 naming the field); `POST …/submit` sends it to Meta."""
    return await d.templates.create(who.org, who.actor, body.sender_id, body.name, body.language, body.category,
                                    body.parameter_format, body.components)


@router.get("", responses=responses(400, 401, 422, 503))
async def list_templates(who: Caller = Depends(caller), d: Deps = Depends(deps), page: Page = Depends(),
                         status: str | None = Query(None, pattern=r"^[A-Z_]{1,32}$"),
                         name: str | None = Query(None, max_length=512, pattern=r"^[a-z0-9_]+$"),
                         language: str | None = Query(None, max_length=8, pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$"),
                         category: Category | None = None,
                         sender_id: str | None = Query(None, min_length=1, max_length=64),
                         waba_id: str | None = Query(None, min_length=1, max_length=64)):
    return await paged(lambda cursor, limit: d.templates.page(
        who.org, cursor, limit, status=status, name=name, language=language, category=category,
        sender_id=sender_id, waba_id=waba_id), page=page)


@router.post("/sync", responses=responses(400, 401, 422, 503))
async def sync(body: SyncRequest | None = Body(default=None), who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Reconcile with Meta now: the accounts' templates as Meta lists them (those made at Meta directly
    appear, read-only); what changed is recorded and published. Answers what the sync did."""
    report = await d.template_sync.sync(who.org, sender_id=body.sender_id if body else None)
    return report.as_dict()


@router.get("/{template_id:uuid}", responses=responses(401, 404, 503))
async def get(template_id: UUID, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    return await d.templates.get(who.org, str(template_id)) or _missing()


@router.patch("/{template_id:uuid}", responses=responses(400, 401, 404, 409, 422, 503,
                                                     s409="read-only (made at Meta) or under Meta's review"))
async def edit(template_id: UUID, body: TemplatePatch, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """A draft changes here; a submitted template's edit goes to Meta, which reviews it again (PENDING)."""
    return await d.templates.edit(who.org, str(template_id), who.actor, body.category, body.components) or _missing()


@router.post("/{template_id:uuid}/submit", responses=responses(401, 404, 409, 422, 503, s422=META))
async def submit(template_id: UUID, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Create the template at Meta (`POST /{waba_id}/message_templates` with the sender's credentials);
    Meta's answer (`meta_template_id`, `status`, `category`) is recorded."""
    return await d.templates.submit(who.org, str(template_id), who.actor) or _missing()


@router.delete("/{template_id:uuid}", status_code=204, response_class=Response, responses=responses(401, 404, 409, 422, 503))
async def delete(template_id: UUID, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Deleted here, and at Meta when it was submitted."""
    if not await d.templates.delete(who.org, str(template_id), who.actor):
        _missing()
    return Response(status_code=204)


def _missing():
    raise not_found("template")
