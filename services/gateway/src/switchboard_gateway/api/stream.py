"""`GET /v1/stream`: the organization's public events as they happen, as Server-Sent Events (the live
feed, `live_feed.py`, with `stream_types.py` and `stored_events.py`, does the work)."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import StreamingResponse

from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.openapi import responses

from ..live_feed import LiveFeed, Listener, TypeFilter, allowed_types, parse_types
from .deps import Principal, current_principal

router = APIRouter(tags=["stream"])

SSE = {200: {"description": (
    "An endless `text/event-stream`. Each event: `id:` its SWITCHBOARD_EVENTS sequence, `event:` "
    "`<entity>.<event>` (e.g. `conversation.assigned`), `data:` the CloudEvent JSON. A `: keep-alive` "
    "comment after SWITCHBOARD_STREAM_HEARTBEAT_SECONDS (15) without a message. `event: resync` (data "
    "`{\"reason\", \"last_event_id\", \"first_seq\", \"resumes_after\"}`) when the asked position is no "
    "longer in the stream: reload the state, the stream goes on from now."),
    "content": {"text/event-stream": {"schema": {"type": "string"}}}}}


class _EventStream(StreamingResponse):
    """The SSE response; the client leaves the feed however the response ends (even unstarted)."""

    def __init__(self, body, feed: LiveFeed, listener: Listener):
        super().__init__(body, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._feed, self._listener = feed, listener

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._feed.forget(self._listener)
            with contextlib.suppress(Exception):  # a replay's consumer deleted now, not when collected
                await self.body_iterator.aclose()


def _types(raw: str | None, role: str) -> TypeFilter:
    try:
        asked = parse_types(raw)
    except ValueError as exc:
        raise ApiError(422, "validation_error", f"invalid fields: types ({exc})",
                       {"fields": [{"field": "types", "message": str(exc), "type": "value_error"}]}) from exc
    allowed = allowed_types(asked, role)
    if allowed == ():
        raise ApiError(403, "forbidden", f"the {role} role gets only conversation.* and message.* events",
                       {"role": role})
    return TypeFilter(allowed)


@router.get("/v1/stream", response_class=StreamingResponse, responses={**responses(401, 422, 503, s403=(
    "The role gets none of the asked types (agents and viewers: `conversation.*` and `message.*`)")), **SSE})
async def stream(
    request: Request,
    principal: Principal = Depends(current_principal),
    types: str | None = Query(None, max_length=2000, description=(
        "Comma-separated event types, `<entity>.<event>`, either part may be `*`: "
        "`conversation.*,message.status`. Default: every type the role gets (agents and viewers: "
        "`conversation.*` and `message.*`; admins: everything).")),
    last_event_id: int | None = Query(None, ge=0, description=(
        "Resume after this sequence, for clients that cannot send the `Last-Event-ID` header "
        "(the header wins when both are sent: a browser's EventSource sends it on reconnect).")),
    last_event_id_header: int | None = Header(None, alias="Last-Event-ID", ge=0, description=(
        "Resume after this sequence (the `id:` of the last event received): exactly the events after "
        "it, none missed, none repeated.")),
):
    """The organization's public events as they happen (from now, without `Last-Event-ID`), as
    Server-Sent Events."""
    type_filter = _types(types, principal.role)
    feed: LiveFeed | None = getattr(request.app.state, "live_feed", None)
    if feed is None:
        raise ApiError(503, "unavailable", "the live stream is not available; retry later")
    position = last_event_id_header if last_event_id_header is not None else last_event_id
    listener = None
    try:
        listener = await feed.listen(principal.org.id, type_filter)  # first: nothing stored from now on escapes it
        start = await feed.start_at(listener, position)
    except Exception as exc:  # noqa: BLE001 - NATS away or slow
        if listener is not None:
            feed.forget(listener)
        raise ApiError(503, "unavailable", "the event stream is not available; retry later") from exc
    return _EventStream(feed.frames(listener, start), feed, listener)
