"""Which sender(s) a send names: exactly one of `sender_id`, `sender_ids` (listed senders) or
`sender_pool` (the senders carrying a label). Whether they exist and can send is the gateway's check
(it keeps the senders read model); the session-pool picks a pool's sender when the message may go."""

from __future__ import annotations

from switchboard_contracts.commands import SenderPool
from switchboard_runtime.http.errors import ApiError

CHOICES = ("sender_id", "sender_ids", "sender_pool")


def route_of(body) -> tuple[str | None, SenderPool | None]:
    """(sender_id, None) or (None, pool) for the send command; 422 when the choice is missing or ambiguous."""
    given = [name for name in CHOICES if getattr(body, name) is not None]
    if len(given) != 1:
        message = ("name the sender: one of sender_id, sender_ids or sender_pool" if not given
                   else f"name only one of {', '.join(given)}")
        fields = given or list(CHOICES)
        raise ApiError(422, "validation_error", message,
                       {"field": fields[0], "fields": [{"field": f, "message": message} for f in fields]})
    if body.sender_id is not None:
        return body.sender_id, None
    if body.sender_ids is not None:
        if len(set(body.sender_ids)) != len(body.sender_ids):
            raise ApiError(422, "validation_error", "sender_ids lists a sender more than once",
                           {"field": "sender_ids", "fields": [{"field": "sender_ids",
                                                               "message": "lists a sender more than once"}]})
        return None, SenderPool(sender_ids=body.sender_ids)
    return None, SenderPool(label=body.sender_pool)
