"""Answers about a Meta sender's message templates (request/reply on `sb.rpc.session-pool.template_*`,
served with the other sender queries): create, list, edit and delete them at Meta with the sender's
own credentials (providers/meta_templates.py), for the conversations service, which owns templates.
Meta's refusal is a 422 `graph_api_error` with Meta's code, subcode and texts in `details`; a Graph
API that cannot be reached (or fails) a 503 `provider_unreachable`."""

from __future__ import annotations

import re

from switchboard_contracts import sender_rpc
from switchboard_contracts.sender_rpc import SenderReply, SenderRequest, failure
from switchboard_runtime.sealing import SealingError

from ..domain.sender import Sender
from ..providers.config_errors import CONFIG_ERRORS, describe
from ..providers.meta_templates import GraphApiError, GraphUnreachable, MetaTemplates

GRAPH_ID = re.compile(r"^[0-9]{1,40}$")  # a template's id goes into the path: digits only


def _bad(message: str) -> SenderReply:
    return failure(400, "bad_request", message)


class TemplateQueries:
    def __init__(self, templates: MetaTemplates):
        self.templates = templates

    def handlers(self):
        return ((sender_rpc.TEMPLATE_CREATE, self.create), (sender_rpc.TEMPLATE_LIST, self.list),
                (sender_rpc.TEMPLATE_EDIT, self.edit), (sender_rpc.TEMPLATE_DELETE, self.delete))

    async def _at_meta(self, sender: Sender, bad: SenderReply | None, call) -> SenderReply:
        """`call(waba_id)` for a Meta sender with a WABA (unless the request is `bad`), Meta's answer
        as the reply's data."""
        if sender.provider != "meta-cloud":
            return failure(422, "not_a_meta_sender", "templates are managed at Meta: the sender is not a Meta sender")
        waba_id = str(sender.config.get("waba_id") or "")
        if not waba_id:
            return failure(422, "no_waba_id", "the sender's configuration names no WhatsApp Business Account (waba_id)")
        if not GRAPH_ID.match(waba_id):
            return failure(422, "no_waba_id", "the sender's waba_id is not a Meta id (digits)")
        if bad is not None:
            return bad
        try:
            return SenderReply(ok=True, data=await call(waba_id))
        except GraphApiError as exc:
            return SenderReply(ok=False, status=422, code="graph_api_error", message=exc.message, details=exc.details)
        except GraphUnreachable as exc:
            return failure(503, "provider_unreachable", f"{exc}; retry later")
        except SealingError as exc:
            return failure(503, "credentials_unavailable", str(exc))
        except CONFIG_ERRORS as exc:
            return failure(422, "invalid_config", describe(exc))

    async def create(self, sender: Sender, request: SenderRequest) -> SenderReply:
        bad = None if request.body else _bad("a template_create request carries the template as its body")
        return await self._at_meta(sender, bad, lambda waba: self.templates.create(sender, waba, request.body))

    async def list(self, sender: Sender, request: SenderRequest) -> SenderReply:
        async def every(waba_id: str) -> dict:
            templates, complete = await self.templates.list(sender, waba_id)
            return {"data": templates} if complete else {"data": templates, "truncated": True}
        return await self._at_meta(sender, None, every)

    async def edit(self, sender: Sender, request: SenderRequest) -> SenderReply:
        body = dict(request.body or {})
        hsm_id = str(body.pop("hsm_id", "") or "")
        bad = None if GRAPH_ID.match(hsm_id) else _bad(
            "a template_edit request names the template by its Meta id (`hsm_id`, digits)")
        return await self._at_meta(sender, bad, lambda waba: self.templates.edit(sender, hsm_id, body))

    async def delete(self, sender: Sender, request: SenderRequest) -> SenderReply:
        body = request.body or {}
        name, hsm_id = body.get("name"), body.get("hsm_id")
        bad = (_bad("a template_delete request names the template (`name`)") if not isinstance(name, str) or not name
               else _bad("`hsm_id` is a Meta template id (digits)")
               if hsm_id is not None and not GRAPH_ID.match(str(hsm_id)) else None)
        return await self._at_meta(sender, bad, lambda waba: self.templates.delete(
            sender, waba, name, None if hsm_id is None else str(hsm_id)))
