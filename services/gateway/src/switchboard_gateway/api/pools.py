"""The senders a send names — `sender_id`, `sender_ids` (listed senders) or `sender_pool` (the senders
carrying a label) — checked against the senders read model before the gateway forwards the send:
an unknown sender is a 404 (another organization's too), a pool none of whose senders can send now
(connected, not paused) a 409. A body that does not name exactly one, well-formed, is passed on: the
conversations service answers it with the 400/422 that names the field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from switchboard_contracts.sender import Label
from switchboard_runtime.http.errors import ApiError, not_found

from ..read_models.queries import Queries


class _Choice(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender_id: str | None = None
    sender_ids: list[str] | None = None
    sender_pool: Label | None = None


async def check_senders(body, org_id: str, queries: Queries) -> None:
    if not isinstance(body, dict):
        return
    try:
        choice = _Choice.model_validate(body)
    except ValidationError:
        return
    given = [v for v in (choice.sender_id, choice.sender_ids, choice.sender_pool) if v is not None]
    if len(given) != 1:
        return
    if choice.sender_id is not None:
        if await queries.sender(org_id, choice.sender_id) is None:
            raise not_found("sender")
        return
    if choice.sender_ids is not None:
        if not choice.sender_ids or len(set(choice.sender_ids)) != len(choice.sender_ids):
            return
        pool = await queries.sender_pool(org_id, ids=choice.sender_ids)
        unknown = [s for s in choice.sender_ids if s not in pool["found"]]
        if unknown:
            raise ApiError(404, "not_found", f"no such senders: {', '.join(unknown)}",
                           {"field": "sender_ids", "unknown": unknown})
        if not pool["ready"]:
            raise _not_ready("sender_ids", "none of these senders can send now: none is connected and not paused")
        return
    pool = await queries.sender_pool(org_id, label=choice.sender_pool)
    if not pool["members"]:
        raise ApiError(404, "not_found", f"no sender carries the label {choice.sender_pool!r}",
                       {"field": "sender_pool"})
    if not pool["ready"]:
        raise _not_ready("sender_pool", f"none of the senders labelled {choice.sender_pool!r} can send now: "
                                        "none is connected and not paused")


def _not_ready(field: str, message: str) -> ApiError:
    return ApiError(409, "senders_unavailable", message, {"field": field})
