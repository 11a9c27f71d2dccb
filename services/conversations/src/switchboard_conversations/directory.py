"""Who and what the inbox names, as the owners' events tell it: users and teams (from the gateway's
`user.*` and `team.*` events) for assignees and their names, and each sender's provider and WhatsApp
Business Account (from `sender.registered` and `sender.removed`; Meta's 24-hour window applies to Meta
senders only; a template belongs to an account), and the blocklist (from `blocklist.*`: ERP notifications
skip a number that opted out). A repeat changes nothing.

The directory follows the stream, so a user created a moment ago may not be in it yet: a lookup that
finds no one waits for it a little (`WAIT_SECONDS`) before saying "unknown". A sender is in the stream
by the time anyone has its id (the gateway answers its creation once `sender.registered` is there): a
sender lookup waits only while the directory's consumer has not caught up with the stream (`settled`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import blocklist, sender, user
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from .tables import SCHEMA

WAIT_SECONDS = 2.0
# asked again after 20 ms, then twice as long each time (at most 0.5 s): about eight queries for an id
# that is never found, where asking every 50 ms made forty
FIRST_POLL_SECONDS, LONGEST_POLL_SECONDS = 0.02, 0.5

USER = text(f"""
    INSERT INTO {SCHEMA}.directory_users (id, org_id, name, role, deleted) VALUES (:id, :org, :name, :role, :deleted)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
        deleted = {SCHEMA}.directory_users.deleted OR excluded.deleted""")
TEAM = text(f"""
    INSERT INTO {SCHEMA}.directory_teams (id, org_id, name, deleted) VALUES (:id, :org, :name, :deleted)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, deleted = {SCHEMA}.directory_teams.deleted OR excluded.deleted""")
SENDER = text(f"""INSERT INTO {SCHEMA}.directory_senders (id, org_id, provider, waba_id) VALUES (:id, :org, :provider, :waba)
                  ON CONFLICT (id) DO UPDATE SET waba_id = COALESCE({SCHEMA}.directory_senders.waba_id, excluded.waba_id)""")
BLOCKED = text(f"""INSERT INTO {SCHEMA}.directory_blocklist (org_id, phone) VALUES (:org, :phone)
                   ON CONFLICT DO NOTHING""")
UNBLOCKED = text(f"DELETE FROM {SCHEMA}.directory_blocklist WHERE org_id = :org AND phone = :phone")
SENDER_REMOVED = text(f"""INSERT INTO {SCHEMA}.directory_senders (id, org_id, provider, removed)
                          VALUES (:id, :org, 'unknown', true) ON CONFLICT (id) DO UPDATE SET removed = true""")


class Directory:
    def __init__(self, engine: AsyncEngine, settled: Callable[[], Awaitable[bool]] | None = None):
        self.engine = engine
        self.settled = settled  # whether every stored directory event is handled (None: unknown, wait)

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        async with self.engine.begin() as conn:
            for d in deliveries:
                try:
                    ce = d.event()
                    if ce.type in (user.USER_CREATED, user.USER_UPDATED, user.USER_DELETED):
                        u = user.UserChanged.model_validate(ce.data)
                        await conn.execute(USER, {"id": u.user_id, "org": ce.orgid, "name": u.name, "role": u.role,
                                                  "deleted": ce.type == user.USER_DELETED})
                    elif ce.type in (user.TEAM_CREATED, user.TEAM_UPDATED, user.TEAM_DELETED):
                        t = user.TeamChanged.model_validate(ce.data)
                        await conn.execute(TEAM, {"id": t.team_id, "org": ce.orgid, "name": t.name,
                                                  "deleted": ce.type == user.TEAM_DELETED})
                    elif ce.type == sender.REGISTERED:
                        s = sender.SenderRegistered.model_validate(ce.data)
                        await conn.execute(SENDER, {"id": s.sender_id, "org": ce.orgid, "provider": s.provider.value,
                                                    "waba": s.waba_id})
                    elif ce.type in (blocklist.ADDED, blocklist.REMOVED):
                        b = blocklist.BlocklistChanged.model_validate(ce.data)
                        await conn.execute(BLOCKED if ce.type == blocklist.ADDED else UNBLOCKED,
                                           {"org": ce.orgid, "phone": b.phone})
                    elif ce.type == sender.REMOVED:
                        s = sender.SenderRemoved.model_validate(ce.data)
                        await conn.execute(SENDER_REMOVED, {"id": s.sender_id, "org": ce.orgid})
                except (BadMessage, ValidationError, ValueError) as exc:
                    outcome.reject(d, f"not a directory event this service understands: {exc}")
        return outcome

    async def user(self, org_id: str, user_id: str, wait: bool = True):
        """The user (id, name, role) if it exists and is not deleted; waits for a new one a little."""
        return await self._find(f"SELECT id, name, role, deleted FROM {SCHEMA}.directory_users "
                                "WHERE id = :id AND org_id = :org", org_id, user_id, wait)

    async def team(self, org_id: str, team_id: str, wait: bool = True):
        return await self._find(f"SELECT id, name, deleted FROM {SCHEMA}.directory_teams "
                                "WHERE id = :id AND org_id = :org", org_id, team_id, wait)

    async def provider(self, org_id: str, sender_id: str) -> str | None:
        row = await self._find(f"SELECT provider, false AS deleted FROM {SCHEMA}.directory_senders "
                               "WHERE id = :id AND org_id = :org", org_id, sender_id, wait=False)
        return row.provider if row else None

    async def meta_sender(self, org_id: str, sender_id: str, wait: bool = True):
        """A Meta sender of the organization (id, waba_id), not removed; None otherwise."""
        return await self._find(f"SELECT id, waba_id, removed AS deleted FROM {SCHEMA}.directory_senders "
                                "WHERE id = :id AND org_id = :org AND provider = 'meta-cloud'", org_id, sender_id, wait,
                                settled=self.settled)

    async def account_senders(self, org_id: str, waba_id: str | None = None) -> list:
        """The organization's Meta senders that are not removed (of one account), one per account first."""
        async with self.engine.connect() as conn:
            return list(await conn.execute(text(
                f"SELECT id, waba_id FROM {SCHEMA}.directory_senders WHERE org_id = :org AND provider = 'meta-cloud' "
                "AND NOT removed AND waba_id IS NOT NULL AND (CAST(:waba AS text) IS NULL OR waba_id = :waba) "
                "ORDER BY waba_id, id"), {"org": org_id, "waba": waba_id}))

    async def blocked(self, conn, org_id: str, phone: str) -> bool:
        """Whether the number opted out (the campaigns service's blocklist), in the caller's transaction."""
        return (await conn.execute(text(f"SELECT 1 FROM {SCHEMA}.directory_blocklist WHERE org_id = :org "
                                        "AND phone = :phone"), {"org": org_id, "phone": phone})).first() is not None

    async def meta_organizations(self) -> list[str]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(
                f"SELECT DISTINCT org_id FROM {SCHEMA}.directory_senders WHERE provider = 'meta-cloud' "
                "AND NOT removed AND waba_id IS NOT NULL ORDER BY org_id"))).scalars())

    async def _find(self, sql: str, org_id: str, key: str, wait: bool, settled=None):
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + (WAIT_SECONDS if wait else 0), FIRST_POLL_SECONDS
        handled = False  # the consumer had caught up before the last query: that query saw everything
        while True:
            async with self.engine.connect() as conn:
                row = (await conn.execute(text(sql), {"id": key, "org": org_id})).first()
            if row is not None:
                return None if row.deleted else row
            left = deadline - loop.time()
            if left <= 0 or handled:
                return None
            handled = settled is not None and await settled()  # asked only after a miss, before the next query
            if not handled:
                await asyncio.sleep(min(pause, left))
                pause = min(pause * 2, LONGEST_POLL_SECONDS)
