"""Meta's template management in the fake Graph API, in the documented shapes: `POST
/{waba_id}/message_templates` (validated as Meta does: name, language, category, a BODY component; one
template per name and language), `GET` the same with `fields`, `limit` and cursor paging (`after`),
`DELETE ?name=&hsm_id=`, and `POST /{hsm_id}` to edit. Errors can be injected for the next creates;
test helpers add a template made at Meta directly and move its status."""

from __future__ import annotations

import asyncio
import base64
import copy
import re
import secrets

from fastapi import Request
from fastapi.responses import JSONResponse

from .fake_graph_errors import duplicate, graph_error, injected, invalid, missing, no_object

NAME = re.compile(r"^[a-z0-9_]{1,512}$")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "FLAGGED", "ARCHIVED", "IN_APPEAL",
            "PENDING_DELETION", "LIMIT_EXCEEDED")
EDITABLE = ("APPROVED", "REJECTED", "PAUSED")
DEFAULT_FIELDS = ("name", "components", "language", "status", "category", "id", "parameter_format")
DEFAULT_LIMIT, MAX_LIMIT = 25, 1000


def _error(problem: tuple[int, dict]) -> JSONResponse:
    return JSONResponse(problem[1], status_code=problem[0])


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"position:{position}".encode()).decode()


def _position(cursor: str) -> int | None:
    try:
        kind, _, n = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(n) if kind == "position" and int(n) >= 0 else None
    except (ValueError, UnicodeDecodeError):
        return None


def _problem(body: object, existing: list[dict]) -> tuple[int, dict] | None:
    """What Meta refuses in a new template's body, or None."""
    if not isinstance(body, dict):
        return missing("name")
    for field in ("name", "language", "category", "components"):
        if body.get(field) in (None, "", []):
            return missing(field)
    if not isinstance(body["name"], str) or not NAME.match(body["name"]):
        return invalid("name", "must be at most 512 lowercase letters, numbers and underscores")
    if body["category"] not in CATEGORIES:
        return invalid("category", f'must be one of {{{", ".join(CATEGORIES)}}} - got "{body["category"]}".')
    components = body["components"]
    if not isinstance(components, list) or not any(
            isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY" for c in components):
        return missing("components", "BODY")
    if any(t["name"] == body["name"] and t["language"] == body["language"] for t in existing):
        return duplicate(body["language"])
    return None


class FakeTemplates:
    """Mixed into FakeGraph, which checks the token (`_denied`), holds `slow` (a WABA id → seconds each
    of its calls hangs) and calls `_template_routes(app)`."""

    def _template_routes(self, app) -> None:
        self.template_errors: list[int | tuple[int, dict]] = []  # answered to the next creates, in turn
        self.created: list[dict] = []  # every accepted create body
        self._templates: dict[str, list[dict]] = {}  # WABA id → its templates, oldest first
        app.post("/{version}/{waba_id}/message_templates")(self.create_template)
        app.get("/{version}/{waba_id}/message_templates")(self.list_templates)
        app.delete("/{version}/{waba_id}/message_templates")(self.delete_template)
        app.post("/{version}/{hsm_id}")(self.edit_template)

    # test helpers

    def add_template(self, waba_id: str, name: str, language: str, category: str, components: list[dict],
                     status: str = "APPROVED", *, parameter_format: str | None = None) -> dict:
        """A template made at Meta directly (in WhatsApp Manager, say); returns it, with its `id`."""
        template = {"id": str(10**14 + secrets.randbelow(9 * 10**14)), "name": name, "language": language,
                    "category": category, "status": status, "components": copy.deepcopy(components),
                    "quality_score": {"score": "UNKNOWN"}, "rejected_reason": "NONE"}
        if parameter_format:
            template["parameter_format"] = parameter_format
        self._templates.setdefault(waba_id, []).append(template)
        return copy.deepcopy(template)

    def set_status(self, template_id: str, status: str, reason: str = "NONE") -> None:
        """Meta's review (or its quality checks) moved the template: APPROVED, REJECTED, PAUSED…"""
        if status not in STATUSES:
            raise ValueError(f"not a template status: {status}")
        template = self._find(template_id)
        if template is None:
            raise KeyError(template_id)
        template["status"] = status
        template["rejected_reason"] = reason if status == "REJECTED" else "NONE"

    def templates(self, waba_id: str) -> list[dict]:
        """The WABA's templates as the fake holds them (copies), oldest first."""
        return copy.deepcopy(self._templates.get(waba_id, []))

    async def _hang(self, waba_id: str) -> None:
        if waba_id in self.slow:
            await asyncio.sleep(self.slow[waba_id])

    def _find(self, template_id: str) -> dict | None:
        return next((t for ts in self._templates.values() for t in ts if t["id"] == template_id), None)

    # the Graph API

    async def create_template(self, version: str, waba_id: str, request: Request):
        if denied := self._denied(request):
            return denied
        await self._hang(waba_id)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if self.template_errors:
            return _error(injected(self.template_errors.pop(0)))
        if problem := _problem(body, self._templates.get(waba_id, [])):
            return _error(problem)
        template = self.add_template(waba_id, body["name"], body["language"], body["category"], body["components"],
                                     "PENDING", parameter_format=body.get("parameter_format"))
        self.created.append(body)
        return {"id": template["id"], "status": "PENDING", "category": body["category"]}

    async def list_templates(self, version: str, waba_id: str, request: Request, limit: int = DEFAULT_LIMIT,
                             after: str | None = None, fields: str | None = None, name: str | None = None,
                             status: str | None = None, language: str | None = None):
        if denied := self._denied(request):
            return denied
        await self._hang(waba_id)
        start = 0 if after is None else _position(after)
        if start is None:
            return _error(invalid("after", "must be a cursor this endpoint returned"))
        wanted = {"id", *(f.strip() for f in fields.split(","))} if fields else set(DEFAULT_FIELDS)
        matching = [t for t in self._templates.get(waba_id, [])
                    if (name is None or t["name"] == name) and (status is None or t["status"] == status)
                    and (language is None or t["language"] == language)]
        page = matching[start:start + max(1, min(limit, MAX_LIMIT))]
        if not page:
            return {"data": []}
        end = start + len(page)
        paging: dict = {"cursors": {"before": _cursor(start), "after": _cursor(end)}}
        if end < len(matching):
            paging["next"] = str(request.url.include_query_params(after=_cursor(end)))
        return {"data": [{k: copy.deepcopy(v) for k, v in t.items() if k in wanted} for t in page], "paging": paging}

    async def delete_template(self, version: str, waba_id: str, request: Request, name: str | None = None,
                              hsm_id: str | None = None):
        """`name` deletes every language of the template; `hsm_id` (with its name) just that one."""
        if denied := self._denied(request):
            return denied
        await self._hang(waba_id)
        if not name:
            return _error(missing("name"))
        kept = [t for t in self._templates.get(waba_id, [])
                if not (t["name"] == name and (hsm_id is None or t["id"] == hsm_id))]
        if len(kept) == len(self._templates.get(waba_id, [])):
            return _error(graph_error("Invalid parameter", title="Message template not found",
                                      user_msg=f'Message template "{name}" could not be found.'))
        self._templates[waba_id] = kept
        return {"success": True}

    async def edit_template(self, version: str, hsm_id: str, request: Request):
        """New components and/or category; the template goes back to review (PENDING)."""
        if denied := self._denied(request):
            return denied
        template = self._find(hsm_id)
        if template is None:
            return _error(no_object(hsm_id))
        body = await request.json()
        if template["status"] not in EDITABLE:
            return _error(graph_error("Invalid parameter", title="Template can't be edited",
                                      user_msg="Only templates that are approved, rejected or paused can be edited."))
        if "category" in body and body["category"] not in CATEGORIES:
            return _error(invalid("category", f'must be one of {{{", ".join(CATEGORIES)}}} - got "{body["category"]}".'))
        if "components" in body:
            if problem := _problem({**template, "components": body["components"], "name": template["name"]}, []):
                return _error(problem)
            template["components"] = copy.deepcopy(body["components"])
        template["category"] = body.get("category", template["category"])
        template["status"] = "PENDING"
        return {"success": True}
