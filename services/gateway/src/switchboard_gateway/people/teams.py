"""Teams of an organization and their members (users of the same organization). Each change and its
team.* event are written in one transaction (the outbox). Locks follow the users' order: the member
(user) first, then the team, then the membership."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts import user as people
from switchboard_contracts.ids import new_id
from switchboard_runtime.http.pagination import keyset_page
from switchboard_runtime.outbox import OutboxTable

from ..tables import SCHEMA
from .events import team_event
from .users import Taken, unique_violation

COLUMNS = "id, name, version, created_at, updated_at"
MEMBERS = text(f"""SELECT m.team_id, u.id, u.email, u.name, u.role, m.added_at
                   FROM {SCHEMA}.team_members m JOIN {SCHEMA}.users u ON u.id = m.user_id
                   WHERE m.team_id = ANY(CAST(:teams AS text[])) AND u.deleted_at IS NULL
                   ORDER BY m.added_at, u.id""")


class UnknownUser(Exception):
    """The member to add is not a user of the organization."""


def _member(r) -> dict:
    return {"user_id": r.id, "email": r.email, "name": r.name, "role": r.role, "added_at": r.added_at}


class Teams:
    def __init__(self, engine: AsyncEngine, outbox: OutboxTable, wake: Callable[[], None] = lambda: None):
        self.engine, self.outbox, self.wake = engine, outbox, wake

    async def _shown(self, conn: AsyncConnection, rows) -> list[dict]:
        members: dict[str, list] = {r.id: [] for r in rows}
        if rows:
            for m in await conn.execute(MEMBERS, {"teams": list(members)}):
                members[m.team_id].append(_member(m))
        return [{"id": r.id, "name": r.name, "members": members[r.id], "created_at": r.created_at,
                 "updated_at": r.updated_at} for r in rows]

    async def _team(self, conn: AsyncConnection, org_id: str, team_id: str, *, lock: bool = False):
        return (await conn.execute(text(
            f"SELECT {COLUMNS} FROM {SCHEMA}.teams WHERE id = :id AND org_id = :org AND deleted_at IS NULL"
            + (" FOR UPDATE" if lock else "")), {"id": team_id, "org": org_id})).first()

    async def get(self, org_id: str, team_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            row = await self._team(conn, org_id, team_id)
            return (await self._shown(conn, [row]))[0] if row else None

    async def page(self, org_id: str, cursor: str | None, limit: int) -> dict:
        page = await keyset_page(self.engine, f"SELECT {COLUMNS} FROM {SCHEMA}.teams WHERE org_id = :org"
                                 " AND deleted_at IS NULL", "ASC", cursor, limit, "created_at", lambda r: r,
                                 org=org_id)
        async with self.engine.connect() as conn:
            return {**page, "items": await self._shown(conn, page["items"])}

    async def create(self, org_id: str, name: str, actor: dict) -> dict:
        try:
            async with self.engine.begin() as conn:
                row = (await conn.execute(text(
                    f"INSERT INTO {SCHEMA}.teams (id, org_id, name) VALUES (:id, :org, :name) RETURNING {COLUMNS}"),
                    {"id": new_id(), "org": org_id, "name": name})).one()
                await self.outbox.add(conn, [team_event(people.TEAM_CREATED, org_id, row, actor, row.created_at)])
                shown = (await self._shown(conn, [row]))[0]
        except IntegrityError as exc:
            if unique_violation(exc, "teams_name"):
                raise Taken("name") from None
            raise
        self.wake()
        return shown

    async def rename(self, org_id: str, team_id: str, name: str, actor: dict) -> dict | None:
        try:
            async with self.engine.begin() as conn:
                row = await self._bump(conn, org_id, team_id, name=name)
                if row is None:
                    return None
                await self.outbox.add(conn, [team_event(people.TEAM_UPDATED, org_id, row, actor, row.updated_at)])
                shown = (await self._shown(conn, [row]))[0]
        except IntegrityError as exc:
            if unique_violation(exc, "teams_name"):
                raise Taken("name") from None
            raise
        self.wake()
        return shown

    async def _bump(self, conn: AsyncConnection, org_id: str, team_id: str, *, name: str | None = None,
                    delete: bool = False):
        """The team's next version (renamed, or deleted); None when there is no such team."""
        sets = "version = version + 1, updated_at = now()" + (", name = :name" if name is not None else "") + (
            ", deleted_at = now()" if delete else "")
        return (await conn.execute(text(
            f"UPDATE {SCHEMA}.teams SET {sets} WHERE id = :id AND org_id = :org AND deleted_at IS NULL "
            f"RETURNING {COLUMNS}"), {"id": team_id, "org": org_id, "name": name})).first()

    async def delete(self, org_id: str, team_id: str, actor: dict) -> bool:
        async with self.engine.begin() as conn:
            row = await self._bump(conn, org_id, team_id, delete=True)
            if row is None:
                return False
            await conn.execute(text(f"DELETE FROM {SCHEMA}.team_members WHERE team_id = :id"), {"id": team_id})
            await self.outbox.add(conn, [team_event(people.TEAM_DELETED, org_id, row, actor, row.updated_at)])
        self.wake()
        return True

    async def add_member(self, org_id: str, team_id: str, user_id: str, actor: dict) -> dict | None:
        """The team with the user among its members (already one: unchanged, no event); None when there
        is no such team; UnknownUser when the user is not one of the organization's."""
        async with self.engine.begin() as conn:
            member = (await conn.execute(text(
                f"SELECT id FROM {SCHEMA}.users WHERE id = :id AND org_id = :org AND deleted_at IS NULL FOR SHARE"),
                {"id": user_id, "org": org_id})).first()
            team = await self._team(conn, org_id, team_id, lock=True)
            if team is None:
                return None
            if member is None:
                raise UnknownUser(user_id)
            added = (await conn.execute(text(
                f"INSERT INTO {SCHEMA}.team_members (team_id, user_id) VALUES (:team, :user) "
                "ON CONFLICT DO NOTHING RETURNING team_id"), {"team": team_id, "user": user_id})).first()
            if added is not None:
                team = await self._bump(conn, org_id, team_id)
                await self.outbox.add(conn, [team_event(people.TEAM_MEMBER_ADDED, org_id, team, actor,
                                                        team.updated_at, user_id=user_id)])
            shown = (await self._shown(conn, [team]))[0]
        if added is not None:
            self.wake()
        return shown

    async def remove_member(self, org_id: str, team_id: str, user_id: str, actor: dict) -> bool:
        """False when there is no such team, or the user is not one of its members."""
        async with self.engine.begin() as conn:
            await conn.execute(text(f"SELECT id FROM {SCHEMA}.users WHERE id = :id AND org_id = :org FOR SHARE"),
                               {"id": user_id, "org": org_id})
            if await self._team(conn, org_id, team_id, lock=True) is None:
                return False
            removed = (await conn.execute(text(
                f"DELETE FROM {SCHEMA}.team_members WHERE team_id = :team AND user_id = :user RETURNING user_id"),
                {"team": team_id, "user": user_id})).first()
            if removed is None:
                return False
            team = await self._bump(conn, org_id, team_id)
            await self.outbox.add(conn, [team_event(people.TEAM_MEMBER_REMOVED, org_id, team, actor,
                                                    team.updated_at, user_id=user_id)])
        self.wake()
        return True
