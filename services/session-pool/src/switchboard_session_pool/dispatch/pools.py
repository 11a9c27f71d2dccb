"""Messages sent to a pool of senders: which senders are the candidates of each (listed ids, or the
organization's senders carrying a label), and the rotation that orders them (domain/selection.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from switchboard_contracts.commands import SenderPool
from switchboard_contracts.message import StatusError

from ..domain.selection import Candidates, Rotation
from ..domain.sender import Sender
from ..senders.directory import SenderDirectory

LISTED_POOLS = 1_000  # distinct listed pools whose Candidates are kept

NO_SENDER = StatusError(code="no_sender", title="No sender in the pool",
                        detail="None of the pool's senders exists in this organization.")


@dataclass(frozen=True)
class PoolRequest:
    org_id: str
    key: Hashable  # the pool, for its rotation
    ids: Candidates | None = None  # listed senders, or...
    label: str | None = None  # ...the organization's senders carrying this label


class Pools:
    def __init__(self, directory: SenderDirectory, senders: dict[str, Sender],
                 load: Callable[[str], Awaitable[Sender | None]]):
        self.directory = directory
        self.senders = senders  # the senders this replica has met
        self.load = load  # loads one from the event store (and remembers it in `senders`)
        self.rotation = Rotation()
        self.of: dict[str, PoolRequest] = {}  # message id → its pool, while the message is in our hands
        self._listed: dict[tuple[str, ...], Candidates] = {}  # pools by their listed ids (a campaign's: one)

    async def resolve(self, org_id: str, pool: SenderPool) -> PoolRequest | None:
        """The pool of a new message, its senders loaded; None when not one of them exists (not
        removed) in the organization."""
        if pool.label is not None:
            await self.directory.refresh(force=not self.directory.knows(org_id, pool.label))
            request = PoolRequest(org_id, ("label", org_id, pool.label), label=pool.label)
            found = self.candidates(request)
            for sender_id in found:  # loaded once per replica, like the sender of a single-sender message
                if sender_id not in self.senders:
                    await self.load(sender_id)
            return request if found else None
        ids = self._candidates(pool.sender_ids)
        exists = False
        for sender_id in ids:
            sender = self.senders.get(sender_id) or await self.load(sender_id)
            exists = exists or (sender is not None and sender.org_id == org_id and not sender.removed)
        return PoolRequest(org_id, ("ids", org_id, ids), ids=ids) if exists else None

    def _candidates(self, sender_ids: list[str]) -> Candidates:
        """The same Candidates for the same list (every message of a campaign names the same pool)."""
        key = tuple(sender_ids)
        ids = self._listed.get(key)
        if ids is None:
            if len(self._listed) >= LISTED_POOLS:
                self._listed.clear()
            ids = self._listed[key] = Candidates(key)
        return ids

    def candidates(self, request: PoolRequest) -> Candidates:
        if request.ids is not None:
            return request.ids
        return self.directory.labelled(request.org_id, request.label or "")
