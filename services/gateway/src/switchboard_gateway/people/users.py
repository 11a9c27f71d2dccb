"""The users of an organization: each with a role and a personal API key (returned once, stored only as
its SHA-256 hash). A change and its user.* event (and team.member_removed, for a deleted user's teams)
are written in one transaction; a deleted user's key is revoked in it, so it fails at once.

Locks are taken in one order — a user, then teams, then memberships — so concurrent changes wait for
each other instead of deadlocking."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts import user as people
from switchboard_contracts.ids import new_id
from switchboard_runtime.http.pagination import keyset_page
from switchboard_runtime.outbox import OutboxTable

from ..orgs import hash_key, key_parameters_hidden, new_key
from ..tables import SCHEMA
from .events import team_event, user_event

COLUMNS = "id, email, name, role, version, created_at, updated_at"
UNIQUE_VIOLATION = "23505"


class Taken(Exception):
    """Another live user (team) of the organization has this email (name)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def shown(r) -> dict:
    return {"id": r.id, "email": r.email, "name": r.name, "role": r.role, "created_at": r.created_at,
            "updated_at": r.updated_at}


def unique_violation(exc: IntegrityError, index: str) -> bool:
    """Whether the error is a duplicate in this unique index."""
    orig = getattr(exc, "orig", None)
    driver = getattr(orig, "__cause__", None)  # asyncpg's own error names the index
    name = getattr(driver, "constraint_name", None) or getattr(getattr(orig, "diag", None), "constraint_name", None)
    return getattr(orig, "sqlstate", None) == UNIQUE_VIOLATION and name == index


class Users:
    def __init__(self, engine: AsyncEngine, outbox: OutboxTable, wake: Callable[[], None] = lambda: None):
        self.engine, self.outbox, self.wake = engine, outbox, wake

    async def create(self, org_id: str, email: str, name: str, role: str, actor: dict) -> tuple[dict, str]:
        """The new user and their API key (shown once)."""
        key, user_id = new_key(), new_id()
        try:
            with key_parameters_hidden():
                async with self.engine.begin() as conn:
                    row = (await conn.execute(text(
                        f"INSERT INTO {SCHEMA}.users (id, org_id, email, name, role) VALUES (:id, :org, :email, "
                        f":name, :role) RETURNING {COLUMNS}"), {"id": user_id, "org": org_id, "email": email,
                                                               "name": name, "role": role})).one()
                    await conn.execute(text(
                        f"INSERT INTO {SCHEMA}.api_keys (id, org_id, key_hash, prefix, user_id) "
                        "VALUES (:id, :org, :h, :p, :user)"),
                        {"id": new_id(), "org": org_id, "h": hash_key(key), "p": key[:12], "user": user_id})
                    await self.outbox.add(conn, [user_event(people.USER_CREATED, org_id, row, actor,
                                                            row.created_at)])
        except IntegrityError as exc:
            if unique_violation(exc, "users_email"):
                raise Taken("email") from None
            raise
        self.wake()
        return shown(row), key

    async def get(self, org_id: str, user_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                f"SELECT {COLUMNS} FROM {SCHEMA}.users WHERE id = :id AND org_id = :org AND deleted_at IS NULL"),
                {"id": user_id, "org": org_id})).first()
        return shown(row) if row else None

    async def page(self, org_id: str, cursor: str | None, limit: int) -> dict:
        return await keyset_page(self.engine, f"SELECT {COLUMNS} FROM {SCHEMA}.users WHERE org_id = :org"
                                 " AND deleted_at IS NULL", "ASC", cursor, limit, "created_at", shown, org=org_id)

    async def update(self, org_id: str, user_id: str, changes: dict, actor: dict) -> dict | None:
        """Change email, name or role (those given); None when there is no such user."""
        sets = ", ".join(f"{field} = :{field}" for field in changes)
        try:
            async with self.engine.begin() as conn:
                row = (await conn.execute(text(
                    f"UPDATE {SCHEMA}.users SET {sets}, version = version + 1, updated_at = now() "
                    f"WHERE id = :id AND org_id = :org AND deleted_at IS NULL RETURNING {COLUMNS}"),
                    {**changes, "id": user_id, "org": org_id})).first()
                if row is None:
                    return None
                await self.outbox.add(conn, [user_event(people.USER_UPDATED, org_id, row, actor, row.updated_at)])
        except IntegrityError as exc:
            if unique_violation(exc, "users_email"):
                raise Taken("email") from None
            raise
        self.wake()
        return shown(row)

    async def delete(self, org_id: str, user_id: str, actor: dict) -> bool:
        """Delete the user: their key stops working, they leave their teams. False when there is none."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(text(
                f"UPDATE {SCHEMA}.users SET deleted_at = now(), updated_at = now(), version = version + 1 "
                f"WHERE id = :id AND org_id = :org AND deleted_at IS NULL RETURNING {COLUMNS}, deleted_at"),
                {"id": user_id, "org": org_id})).first()
            if row is None:
                return False
            await conn.execute(text(f"UPDATE {SCHEMA}.api_keys SET revoked_at = now() "
                                    "WHERE user_id = :id AND revoked_at IS NULL"), {"id": user_id})
            events = [user_event(people.USER_DELETED, org_id, row, actor, row.deleted_at)]
            events += await self._leave_teams(conn, org_id, user_id, actor)
            await self.outbox.add(conn, events)
        self.wake()
        return True

    async def _leave_teams(self, conn: AsyncConnection, org_id: str, user_id: str, actor: dict) -> list:
        ids = [r.id for r in await conn.execute(text(  # locked in one order: no deadlock between two deletes
            f"SELECT id FROM {SCHEMA}.teams WHERE org_id = :org AND deleted_at IS NULL AND id IN "
            f"(SELECT team_id FROM {SCHEMA}.team_members WHERE user_id = :user) ORDER BY id FOR UPDATE"),
            {"org": org_id, "user": user_id})]
        if not ids:
            return []
        teams = list(await conn.execute(text(
            f"UPDATE {SCHEMA}.teams SET version = version + 1, updated_at = now() "
            "WHERE id = ANY(CAST(:ids AS text[])) RETURNING id, name, version, updated_at"), {"ids": ids}))
        await conn.execute(text(f"DELETE FROM {SCHEMA}.team_members WHERE user_id = :user"), {"user": user_id})
        return [team_event(people.TEAM_MEMBER_REMOVED, org_id, t, actor, t.updated_at, user_id=user_id)
                for t in sorted(teams, key=lambda t: t.id)]
