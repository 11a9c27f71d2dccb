"""Meta's template management API (WhatsApp Business Management) for a Meta sender, with the Graph
client its sends use (base URL, API version and token: meta_cloud.py): create, list (every page, to a
bound), edit and delete the templates of its WABA. Meta's refusal is raised as GraphApiError, with its
code, subcode and texts; a Graph API that cannot be reached, times out or fails (5xx) as
GraphUnreachable. Neither carries the token, nor does any log line."""

from __future__ import annotations

from typing import Any

import httpx

from switchboard_runtime.logs import get_logger

from ..domain.sender import Sender
from .config_errors import CONFIG_ERRORS
from .meta_cloud import MetaCloudProvider

log = get_logger(__name__)
LIST_FIELDS = "name,status,category,language,components,parameter_format,quality_score,rejected_reason"
PAGE_LIMIT, MAX_PAGES = 100, 200
DETAILS = ("code", "error_subcode", "message", "error_user_title", "error_user_msg", "fbtrace_id")


class GraphApiError(Exception):
    """Meta refused the request: `message` is what Meta says to show (error_user_msg, else message)."""

    def __init__(self, message: str, details: dict[str, Any]):
        super().__init__(message)
        self.message, self.details = message, details


class GraphUnreachable(Exception):
    """No usable answer: the API could not be reached, timed out, failed (5xx) or answered no JSON."""


def _refusal(response: httpx.Response) -> GraphApiError | GraphUnreachable:
    if response.status_code >= 500:
        return GraphUnreachable(f"the Graph API failed (HTTP {response.status_code})")
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return GraphApiError(f"the Graph API refused the request (HTTP {response.status_code})",
                             {"http_status": response.status_code})
    details = {k: error[k] for k in DETAILS if error.get(k) is not None}
    message = error.get("error_user_msg") or error.get("message") or f"HTTP {response.status_code}"
    return GraphApiError(str(message), details)


class MetaTemplates:
    def __init__(self, meta: MetaCloudProvider, *, max_pages: int = MAX_PAGES):
        self.meta, self.max_pages = meta, max_pages

    async def _call(self, sender: Sender, method: str, path: str, **kwargs) -> dict[str, Any]:
        """Meta's JSON answer, or GraphApiError / GraphUnreachable (SealingError and the configuration
        errors of config_errors.py pass through)."""
        try:
            response = await self.meta.client(sender).request(method, path, **kwargs)
        except CONFIG_ERRORS:
            raise  # the sender's configuration, not the network
        except httpx.HTTPError as exc:
            log.warning("Graph API unreachable", sender_id=str(sender.id), error=type(exc).__name__)
            raise GraphUnreachable(f"the Graph API could not be reached ({type(exc).__name__})") from exc
        if response.status_code == 200:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                return body
            raise GraphUnreachable("the Graph API answered something other than a JSON object")
        refusal = _refusal(response)
        details = refusal.details if isinstance(refusal, GraphApiError) else {}
        log.warning("Graph API refused a template request", sender_id=str(sender.id), status=response.status_code,
                    meta_code=details.get("code"), subcode=details.get("error_subcode"),
                    fbtrace_id=details.get("fbtrace_id"))
        raise refusal

    async def create(self, sender: Sender, waba_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /{waba_id}/message_templates` with the body as it is; Meta's `{"id", "status", "category"}`."""
        return await self._call(sender, "POST", f"/{waba_id}/message_templates", json=body)

    async def list(self, sender: Sender, waba_id: str) -> tuple[list[dict[str, Any]], bool]:
        """Every template of the WABA, following Meta's pages (by the `after` cursor, never by the `next`
        URL, which could send the token elsewhere); and whether the list is complete (False: the
        page bound was reached, or Meta's cursor did not move)."""
        templates: list[dict[str, Any]] = []
        params: dict[str, Any] = {"fields": LIST_FIELDS, "limit": PAGE_LIMIT}
        for _ in range(self.max_pages):
            page = await self._call(sender, "GET", f"/{waba_id}/message_templates", params=params)
            templates.extend(t for t in page.get("data") or [] if isinstance(t, dict))
            paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
            after = (paging.get("cursors") or {}).get("after") if isinstance(paging.get("cursors"), dict) else None
            if not paging.get("next") or not after:
                return templates, True
            if after == params.get("after"):
                break
            params = {**params, "after": after}
        log.warning("template list cut short", sender_id=str(sender.id), pages=self.max_pages, count=len(templates))
        return templates, False

    async def edit(self, sender: Sender, hsm_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /{hsm_id}` with the new components and/or category; Meta's `{"success": true}`."""
        return await self._call(sender, "POST", f"/{hsm_id}", json=body)

    async def delete(self, sender: Sender, waba_id: str, name: str, hsm_id: str | None = None) -> dict[str, Any]:
        """`DELETE /{waba_id}/message_templates?name=` (every language), `&hsm_id=` (just that one)."""
        params = {"name": name, **({"hsm_id": hsm_id} if hsm_id else {})}
        return await self._call(sender, "DELETE", f"/{waba_id}/message_templates", params=params)
