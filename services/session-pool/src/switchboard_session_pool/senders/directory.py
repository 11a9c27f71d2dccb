"""Which senders of an organization carry a label, for pools named by label. Followed from the senders
application's notification log (only Registered, Updated and Removed events, selected by topic), so
it knows the senders every replica registered, not only those this one has met; read up to date when
a label is asked for that it does not know, and otherwise at most every `refresh_seconds`."""

from __future__ import annotations

import asyncio
import time

from eventsourcing.utils import get_topic

from ..application import SendersApp
from ..domain.selection import Candidates
from ..domain.sender import Sender

TOPICS = [get_topic(Sender.Registered), get_topic(Sender.Updated), get_topic(Sender.Removed)]
PAGE = 5000


class SenderDirectory:
    def __init__(self, app: SendersApp, refresh_seconds: float = 0.5):
        self.app, self.refresh_seconds = app, refresh_seconds
        self.position = 0  # the last notification read
        self.labels_of: dict[str, tuple[str, tuple[str, ...]]] = {}  # sender id → (org, its labels)
        self.order: dict[str, int] = {}  # sender id → when it was registered (notification id)
        self._members: dict[tuple[str, str], set[str]] = {}  # (org, label) → its senders
        self._index: dict[tuple[str, str], Candidates] = {}  # … in registration order, as asked for
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    def labelled(self, org_id: str, label: str) -> Candidates:
        """The org's senders carrying the label (not removed), in registration order."""
        key = (org_id, label)
        found = self._index.get(key)
        if found is None:
            members = self._members.get(key)
            if not members:
                return Candidates(())
            found = self._index[key] = Candidates(sorted(members, key=self.order.__getitem__))
        return found

    def knows(self, org_id: str, label: str) -> bool:
        return bool(self.labelled(org_id, label))

    async def refresh(self, *, force: bool = False) -> None:
        """Read the senders' label changes recorded since the last read (by any replica)."""
        if not force and time.monotonic() - self._read_at < self.refresh_seconds:
            return
        async with self._lock:
            if not force and time.monotonic() - self._read_at < self.refresh_seconds:
                return
            self._read_at = time.monotonic()
            while True:
                page = await asyncio.to_thread(self.app.recorder.select_notifications, self.position + 1,
                                               PAGE, topics=TOPICS)
                for n in page:
                    self._apply(n.id, self.app.mapper.to_domain_event(n))
                    self.position = n.id
                if len(page) < PAGE:
                    return

    def note(self, sender: Sender) -> None:
        """A sender this replica changed or reloaded: its labels count now, before the log is read."""
        sender_id = str(sender.id)
        self.order.setdefault(sender_id, 1 << 62)  # until its registration is read: last
        labels = tuple(getattr(sender, "labels", ()) or ())
        if sender.removed:
            self._set(sender_id, None, ())
        elif self.labels_of.get(sender_id) != (sender.org_id, labels):
            self._set(sender_id, sender.org_id, labels)

    def _apply(self, position: int, event) -> None:
        sender_id = str(event.originator_id)
        if isinstance(event, Sender.Registered):
            self.order[sender_id] = position
            self._set(sender_id, event.org_id, tuple(getattr(event, "labels", None) or ()))
        elif isinstance(event, Sender.Updated):
            labels = getattr(event, "labels", None)
            if labels is not None and sender_id in self.labels_of:
                self._set(sender_id, self.labels_of[sender_id][0], tuple(labels))
        elif isinstance(event, Sender.Removed) and sender_id in self.labels_of:
            self._set(sender_id, None, ())

    def _set(self, sender_id: str, org_id: str | None, labels: tuple[str, ...]) -> None:
        old_org, old_labels = self.labels_of.get(sender_id, (None, ()))
        for label in old_labels:
            key = (old_org, label)
            self._index.pop(key, None)
            members = self._members.get(key)
            if members is not None:
                members.discard(sender_id)
                if not members:
                    del self._members[key]
        for label in labels if org_id is not None else ():
            self._index.pop((org_id, label), None)
            self._members.setdefault((org_id, label), set()).add(sender_id)
        if org_id is None:
            self.labels_of.pop(sender_id, None)
        else:
            self.labels_of[sender_id] = (org_id, labels)
