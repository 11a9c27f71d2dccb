"""Which sender(s) a message names: exactly one of `sender_id`, `sender_ids` (a pool of listed
senders) or `sender_pool` (the senders carrying a label), checked against the senders read model."""

from __future__ import annotations

from switchboard_contracts.commands import SenderPool
from switchboard_runtime.http.errors import ApiError, not_found

from ..read_models.queries import Queries
from .schemas import SendMessageRequest

CHOICES = ("sender_id", "sender_ids", "sender_pool")


def _invalid(field: str, message: str, **details) -> ApiError:
    return ApiError(422, "validation_error", message,
                    {"field": field, "fields": [{"field": field, "message": message}], **details})


async def senders_of(body: SendMessageRequest, org_id: str, queries: Queries) -> tuple[str | None, SenderPool | None]:
    """(sender_id, None) or (None, pool) for the send command; an ApiError when the choice is missing,
    ambiguous, names senders the organization does not have, or a pool none of whose senders can
    send now (connected and not paused)."""
    given = [name for name in CHOICES if getattr(body, name) is not None]
    if len(given) != 1:
        message = ("name the sender: one of sender_id, sender_ids or sender_pool" if not given
                   else f"name only one of {', '.join(given)}")
        fields = given or list(CHOICES)
        raise ApiError(422, "validation_error", message,
                       {"field": fields[0], "fields": [{"field": f, "message": message} for f in fields]})
    if body.sender_id is not None:
        if await queries.sender(org_id, body.sender_id) is None:
            raise not_found("sender")
        return body.sender_id, None
    if body.sender_ids is not None:
        if len(set(body.sender_ids)) != len(body.sender_ids):
            raise _invalid("sender_ids", "sender_ids lists a sender more than once")
        pool = await queries.sender_pool(org_id, ids=body.sender_ids)
        unknown = [s for s in body.sender_ids if s not in pool["found"]]
        if unknown:
            raise _invalid("sender_ids", f"no such senders: {', '.join(unknown)}", unknown=unknown)
        if not pool["ready"]:
            raise _invalid("sender_ids", "none of these senders can send now: none is connected and not paused")
        return None, SenderPool(sender_ids=body.sender_ids)
    pool = await queries.sender_pool(org_id, label=body.sender_pool)
    if not pool["members"]:
        raise _invalid("sender_pool", f"no sender carries the label {body.sender_pool!r}")
    if not pool["ready"]:
        raise _invalid("sender_pool", f"none of the senders labelled {body.sender_pool!r} can send now: "
                                      "none is connected and not paused")
    return None, SenderPool(label=body.sender_pool)
