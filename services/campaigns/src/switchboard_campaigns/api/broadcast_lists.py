"""`/v1/broadcast-lists`: named, reusable contact lists; `POST …/{id}/send` sends one as a campaign
(tracked like any campaign) in chunks of `chunk_size` (256) with `chunk_pause_ms` between them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from switchboard_contracts.ids import new_id
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import responses

from ..content import CampaignContent
from ..domain.campaign import TransitionError
from ..domain.template_definition import TemplateRefusal
from ..lifecycle import NoSenders
from .campaign_views import campaign_view, checked_spec, refused
from .deps import Deps, caller, deps, org_of
from .schemas import BroadcastListIn, BroadcastSend, ResourceId, UuidCursor
from .uploads import CONTACTS_BODY, answer, read_upload

router = APIRouter(prefix="/v1/broadcast-lists", tags=["broadcast lists"])


async def _list(d: Deps, org: str, list_id: str) -> dict:
    try:
        found = await d.lists.get(org, list_id)
    except Exception:  # noqa: BLE001 - not a UUID
        found = None
    if found is None:
        raise not_found("broadcast list")
    return found


@router.post("", status_code=201, responses=responses(400, 401, 422))
async def create(body: BroadcastListIn, org: str = Depends(org_of), d: Deps = Depends(deps)):
    list_id = new_id()
    await d.lists.create(list_id, org, body.name)
    return await d.lists.get(org, list_id)


@router.get("", responses=responses(401, 422))
async def list_lists(org: str = Depends(org_of), d: Deps = Depends(deps),
                     limit: int = Query(50, ge=1, le=200), cursor: UuidCursor = None):
    return await d.lists.page(org, cursor, limit)


@router.get("/{list_id}", responses=responses(401, 404, 422))
async def get(list_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    return await _list(d, org, list_id)


@router.delete("/{list_id}", status_code=204, responses=responses(401, 404, 422))
async def delete(list_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    await _list(d, org, list_id)
    await d.lists.delete(org, list_id)
    return Response(status_code=204)


@router.post("/{list_id}/contacts", responses=responses(401, 404, 415, 422), openapi_extra=CONTACTS_BODY)
async def add_contacts(list_id: ResourceId, request: Request, org: str = Depends(org_of), d: Deps = Depends(deps)):
    """Like a campaign's contacts (CSV streamed, or JSON): normalized, deduplicated, bad rows reported."""
    await _list(d, org, list_id)
    report, upload, import_id = await read_upload(request, d.settings.default_region, set(),
                                                  d.lists.upload(list_id), d.imports, org, "broadcast_list",
                                                  list_id)
    return answer(report, upload, import_id)


@router.get("/{list_id}/imports", responses=responses(401, 404, 422))
async def imports(list_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    """The list's contact imports, latest first, each with its progress while it runs."""
    await _list(d, org, list_id)
    return {"items": await d.imports.recent(org, list_id)}


@router.post("/{list_id}/send", status_code=201, responses=responses(400, 401, 404, 409, 422))
async def send(list_id: ResourceId, body: BroadcastSend, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    org = who.org
    found = await _list(d, org, list_id)
    if not found["contacts"]:
        raise ApiError(409, "conflict", "the broadcast list has no contacts")
    spec = checked_spec(body.model_copy(update={"name": body.name or f"{found['name']} (broadcast)"}))
    spec["chunk"] = {"size": body.chunk_size,
                     "pause_ms": d.settings.broadcast_chunk_pause_ms if body.chunk_pause_ms is None
                     else body.chunk_pause_ms}
    required = CampaignContent.from_spec(spec).required
    if lacking := await d.lists.lacking(list_id, required):
        raise ApiError(422, "validation_error", f"contacts of the list lack variables the content needs "
                       f"({', '.join(sorted(required))}): e.g. {', '.join(lacking)}", {"field": "text"})
    try:
        campaign = await d.lifecycle.create(new_id(), org, spec, who.actor)
    except TemplateRefusal as exc:
        raise refused(exc) from exc
    cid = str(campaign.id)
    async with d.contacts.upload(org, cid) as upload:
        async for batch in d.lists.contacts(list_id):
            await upload.add(batch)
    try:
        await d.lifecycle.imported(org, cid, upload.added, upload.duplicates, 0, who.actor)
        campaign = await d.lifecycle.act(org, cid, "start", who.actor)
    except NoSenders as exc:
        raise ApiError(422, "no_senders", str(exc), {"field": "sender_ids", "campaign_id": cid}) from exc
    except TemplateRefusal as exc:
        raise refused(exc, campaign_id=cid) from exc
    except TransitionError as exc:
        raise ApiError(409, "conflict", str(exc), {"campaign_id": cid}) from exc
    out = campaign_view(campaign, await d.contacts.stats(cid))
    out["broadcast_list_id"] = list_id
    return out
