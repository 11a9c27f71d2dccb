"""Meta's template management API (`/{waba_id}/message_templates`), reached through the session-pool,
which holds the Meta senders' credentials and Graph API client (NATS request/reply, `sender_rpc`):
create, list, edit and delete. A Graph API error comes back as MetaRefused with Meta's code, subcode
and message; a session-pool that does not answer is a 503."""

from __future__ import annotations

import nats.errors

from switchboard_contracts import sender_rpc
from switchboard_runtime.http.errors import ApiError

TIMEOUT = 20.0  # the session-pool's own Graph API timeout is 15 s
LIST_TIMEOUT = 120.0  # a list follows Meta's pages to the end


class MetaRefused(Exception):
    def __init__(self, reply: sender_rpc.SenderReply):
        super().__init__(reply.message or reply.code or "refused")
        self.reply = reply

    def api_error(self) -> ApiError:
        r = self.reply
        return ApiError(r.status if r.status in (404, 409, 422, 503) else 422, r.code or "graph_api_error",
                        r.message or "Meta refused the request", r.details or None)


class MetaTemplates:
    def __init__(self, nc):
        self.nc = nc

    async def _ask(self, subject: str, org_id: str, sender_id: str, body: dict | None,
                   timeout: float = TIMEOUT) -> dict:
        request = sender_rpc.SenderRequest(org_id=org_id, sender_id=sender_id, body=body)
        try:
            msg = await self.nc.request(subject, request.model_dump_json().encode(), timeout=timeout)
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError, nats.errors.ConnectionClosedError) as exc:
            raise ApiError(503, "unavailable", "the session-pool did not answer; retry later") from exc
        reply = sender_rpc.SenderReply.model_validate_json(msg.data)
        if not reply.ok:
            raise MetaRefused(reply)
        return reply.data

    async def create(self, org_id: str, sender_id: str, body: dict) -> dict:
        """Meta's answer `{"id", "status", "category"}`."""
        return await self._ask(sender_rpc.TEMPLATE_CREATE, org_id, sender_id, body)

    async def list(self, org_id: str, sender_id: str) -> tuple[list[dict], bool]:
        """The templates of the sender's account, as Meta lists them; whether the list is whole (False:
        Meta's pages did not end within the session-pool's bound)."""
        data = await self._ask(sender_rpc.TEMPLATE_LIST, org_id, sender_id, None, LIST_TIMEOUT)
        return [t for t in data.get("data") or [] if isinstance(t, dict)], not data.get("truncated")

    async def edit(self, org_id: str, sender_id: str, meta_template_id: str, body: dict) -> dict:
        return await self._ask(sender_rpc.TEMPLATE_EDIT, org_id, sender_id, {"hsm_id": meta_template_id, **body})

    async def delete(self, org_id: str, sender_id: str, name: str, meta_template_id: str | None) -> dict:
        return await self._ask(sender_rpc.TEMPLATE_DELETE, org_id, sender_id,
                               {"name": name, **({"hsm_id": meta_template_id} if meta_template_id else {})})
