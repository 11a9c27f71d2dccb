"""`/v1/campaigns`: create, add contacts (JSON or streamed CSV), start/pause/resume/cancel, read with
live statistics, list contacts by status, and stream the results as CSV."""

from __future__ import annotations

import csv
import io
import json
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from switchboard_contracts.ids import new_id
from switchboard_runtime.eventstore import call
from switchboard_runtime.http.errors import ApiError, not_found
from switchboard_runtime.http.internal_auth import Caller
from switchboard_runtime.http.openapi import json_body, responses

from ..content import CampaignContent
from ..domain.campaign import Campaign, TransitionError
from ..domain.template_definition import TemplateRefusal
from ..lifecycle import NoSenders
from .campaign_views import campaign_view, checked_spec, refused
from .deps import Deps, caller, deps, org_of
from .schemas import CreateCampaign, ResourceId, UuidCursor
from .uploads import CONTACTS_BODY, answer, read_upload

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


async def _campaign(d: Deps, org: str, campaign_id: str) -> Campaign:
    campaign = await call(d.app.find, org, campaign_id)
    if campaign is None:
        raise not_found("campaign")
    return campaign


@router.post("", status_code=201, responses=responses(400, 401, 422))
async def create(body: CreateCampaign, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    org = who.org
    try:
        campaign = await d.lifecycle.create(new_id(), org, checked_spec(body), who.actor)
    except TemplateRefusal as exc:
        raise refused(exc) from exc
    return campaign_view(campaign, await d.contacts.stats(str(campaign.id)))


@router.patch("/{campaign_id}", responses=responses(400, 401, 404, 409, 422),
              openapi_extra=json_body(CreateCampaign, partial=True))
async def edit(campaign_id: ResourceId, request: Request, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """Change a draft: the fields given replace the campaign's (content fields replace each other);
    a campaign that has started cannot be edited (409)."""
    org = who.org
    campaign = await _campaign(d, org, campaign_id)
    try:
        changes = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from exc
    if not isinstance(changes, dict) or not changes:
        raise ApiError(422, "validation_error", "give the fields to change")
    if campaign.status != "draft":
        raise ApiError(409, "conflict", f"only a draft campaign can be edited (it is {campaign.status})")
    merged = {**_request_of(campaign), **changes}
    if {"text", "template", "media"} & set(changes):
        merged = {k: v for k, v in merged.items() if k not in {"text", "template", "media", "type"} - set(changes)}
    if {"sender_ids", "sender_pool"} & set(changes):
        merged = {k: v for k, v in merged.items() if k not in {"sender_ids", "sender_pool"} - set(changes)}
    try:
        body = CreateCampaign.model_validate(merged)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", "invalid fields", {"fields": [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]}) from exc
    try:
        campaign = await d.lifecycle.edit(org, campaign_id, checked_spec(body), who.actor)
    except TransitionError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    except TemplateRefusal as exc:
        raise refused(exc) from exc
    return campaign_view(campaign, await d.contacts.stats(campaign_id))


def _request_of(c: Campaign) -> dict:
    """The campaign's definition in the request's terms."""
    out = {"name": c.name, "timezone": c.timezone, "window": c.window, "delay_ms": c.delay_ms,
           "schedule": c.schedule, "variables": c.variables, **{
               ("sender_ids" if "sender_ids" in c.senders else "sender_pool"): c.senders.get("sender_ids")
               or c.senders.get("label")}}
    content = c.content
    if content["type"] == "text":
        out["text"] = content["text"]
    elif content["type"] == "template":
        out["template"] = content["template"]
    else:
        out.update(type=content["type"], media=content["media"])
    return {k: v for k, v in out.items() if v is not None}


@router.get("", responses=responses(401, 422))
async def list_campaigns(org: str = Depends(org_of), d: Deps = Depends(deps),
                         limit: int = Query(50, ge=1, le=200), cursor: UuidCursor = None):
    return await d.contacts.campaigns(org, cursor, limit)


@router.get("/{campaign_id}", responses=responses(401, 404, 422))
async def get(campaign_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    campaign = await _campaign(d, org, campaign_id)
    latest = await d.imports.recent(org, campaign_id, limit=1)
    return {**campaign_view(campaign, await d.contacts.stats(campaign_id)), "last_import": latest[0] if latest else None}


@router.get("/{campaign_id}/stats", responses=responses(401, 404, 422))
async def stats(campaign_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    await _campaign(d, org, campaign_id)
    return await d.contacts.stats(campaign_id)


@router.delete("/{campaign_id}", status_code=204, responses=responses(401, 404, 409, 422))
async def delete(campaign_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
    """A draft or finished campaign, with its contacts and results (its events stay); 409 while it is
    scheduled, running or paused."""
    org = who.org
    await _campaign(d, org, campaign_id)
    try:
        deleted = await d.lifecycle.delete(org, campaign_id, who.actor)
    except TransitionError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    if not deleted:
        raise not_found("campaign")
    return Response(status_code=204)


@router.post("/{campaign_id}/contacts", responses=responses(401, 404, 409, 415, 422),
             openapi_extra=CONTACTS_BODY)
async def add_contacts(campaign_id: ResourceId, request: Request, who: Caller = Depends(caller),
                       d: Deps = Depends(deps)):
    """JSON `{"contacts": [{"phone", "name", "variables"}]}` (≤ 10,000) or a `text/csv` body of any
    size, streamed: `{"accepted", "duplicates", "rejected": [{"line", "reason"}], ...}`."""
    org = who.org
    campaign = await _campaign(d, org, campaign_id)
    if campaign.status not in ("draft", "scheduled", "running", "paused"):
        raise ApiError(409, "conflict", f"a {campaign.status} campaign takes no more contacts")
    required = CampaignContent.from_spec({"content": campaign.content, "senders": campaign.senders,
                                          "variables": campaign.variables}).required
    report, upload, import_id = await read_upload(request, d.settings.default_region, required,
                                                  d.contacts.upload(org, campaign_id), d.imports, org,
                                                  "campaign", campaign_id)
    if upload.added:
        try:
            await d.lifecycle.imported(org, campaign_id, upload.added, report.duplicates + upload.duplicates,
                                       report.rejected_count, who.actor)
        except TransitionError as exc:
            raise ApiError(409, "conflict", str(exc)) from exc
    return answer(report, upload, import_id)


@router.get("/{campaign_id}/imports", responses=responses(401, 404, 422))
async def imports(campaign_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    """The campaign's contact imports, latest first, each with its progress while it runs."""
    await _campaign(d, org, campaign_id)
    return {"items": await d.imports.recent(org, campaign_id)}


async def _act(d: Deps, who: Caller, campaign_id: str, what: str) -> dict:
    try:
        campaign = await d.lifecycle.act(who.org, campaign_id, what, who.actor)
    except TransitionError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    except NoSenders as exc:
        raise ApiError(422, "no_senders", str(exc), {"field": "sender_ids"}) from exc
    except TemplateRefusal as exc:
        raise refused(exc) from exc
    if campaign is None:
        raise not_found("campaign")
    return campaign_view(campaign, await d.contacts.stats(campaign_id))


ACTIONS = {"start": "Start the campaign: now, or at its schedule's start (422 `template_not_approved` when its "
                    "template is known not to be APPROVED in its Meta senders' account, `template_parameters` "
                    "when its parameters do not fill the template's variables)",
           "pause": "Pause the campaign: nothing more is sent until it is resumed",
           "resume": "Resume a paused campaign (422 `template_not_approved` while its template may not be sent, "
                     "`template_parameters`)",
           "cancel": "Cancel the campaign: its queued messages are not sent"}


def _action(what: str):
    async def act(campaign_id: ResourceId, who: Caller = Depends(caller), d: Deps = Depends(deps)):
        return await _act(d, who, campaign_id, what)
    act.__doc__ = f"{ACTIONS[what]}; 409 when the campaign's status forbids it."
    return act


# one route per action (not `/{campaign_id}/{action}`): another word there is a 405 naming the methods the
# path has, as for any path, not a 422
for _what in ACTIONS:
    router.add_api_route(f"/{{campaign_id}}/{_what}", _action(_what), methods=["POST"], name=f"{_what}_campaign",
                         summary=_what.capitalize(), responses=responses(401, 404, 409, 422))


@router.get("/{campaign_id}/contacts", responses=responses(401, 404, 422))
async def contacts(campaign_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps),
                   status: str | None = Query(None, pattern="^(pending|queued|sent|delivered|read|failed|blocked|expired|cancelled)$"),
                   limit: int = Query(100, ge=1, le=1000), cursor: str | None = Query(None, pattern=r"^\d{1,18}$")):
    await _campaign(d, org, campaign_id)
    rows = await d.contacts.page(campaign_id, status, int(cursor or 0), limit)
    return {"items": rows, "next_cursor": str(rows[-1]["seq"]) if len(rows) == limit else None}


RESULT_COLUMNS = ("phone", "name", "status", "message_id", "sender_id", "error_code", "error_title",
                  "queued_at", "sent_at", "delivered_at", "read_at", "finished_at")


@router.get("/{campaign_id}/results.csv", responses={
    **responses(401, 404, 422), 200: {"description": "CSV, one row per contact", "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def results(campaign_id: ResourceId, org: str = Depends(org_of), d: Deps = Depends(deps)):
    """Every contact's final status and times, streamed in pages (never all in memory)."""
    await _campaign(d, org, campaign_id)

    async def rows():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(RESULT_COLUMNS)
        after = 0
        while True:
            page = await d.contacts.page(campaign_id, None, after, 5000)
            for r in page:
                writer.writerow(["" if r[c] is None else r[c] for c in RESULT_COLUMNS])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if len(page) < 5000:
                return
            after = page[-1]["seq"]

    return StreamingResponse(rows(), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'})
