"""Organizations and their API keys. Keys are random, shown once, and stored only as SHA-256 hashes
(high-entropy keys need no slow hash; a lookup is one indexed equality)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.ids import new_id

from .tables import SCHEMA

KEY_PREFIX = "sb_live_"


@dataclass(frozen=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True)
class KeyHolder:
    """Whom a key belongs to: the organization and the key's id; for a user's key, the user too."""

    org: Organization
    key_id: str
    user_id: str | None = None
    role: str = "admin"  # the organization's own key acts as an admin
    user_name: str | None = None
    user_email: str | None = None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


@contextmanager
def key_parameters_hidden() -> Iterator[None]:
    """Around a statement that carries a key's hash: an error's text (which may be logged) leaves the
    statement's parameters out."""
    try:
        yield
    except StatementError as exc:
        exc.hide_parameters = True
        raise


class Organizations:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create(self, name: str) -> tuple[Organization, str]:
        """A new organization and its first API key (returned once, never stored in clear)."""
        org = Organization(new_id(), name)
        key = await self._insert(org)
        return org, key

    async def _insert(self, org: Organization) -> str:
        key = new_key()
        with key_parameters_hidden():
            async with self.engine.begin() as conn:
                await conn.execute(text(f"INSERT INTO {SCHEMA}.organizations (id, name) VALUES (:id, :name)"),
                                   {"id": org.id, "name": org.name})
                await conn.execute(text(
                    f"INSERT INTO {SCHEMA}.api_keys (id, org_id, key_hash, prefix) VALUES (:id, :org, :h, :p)"),
                    {"id": new_id(), "org": org.id, "h": hash_key(key), "p": key[:12]})
        return key

    async def by_key(self, key: str) -> Organization | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                f"SELECT o.id, o.name FROM {SCHEMA}.api_keys k JOIN {SCHEMA}.organizations o "
                "ON o.id = k.org_id WHERE k.key_hash = :h AND k.revoked_at IS NULL"),
                {"h": hash_key(key)})).first()
        return Organization(row.id, row.name) if row else None

    async def holder(self, key: str) -> KeyHolder | None:
        """Whom a valid key belongs to (a revoked key, or a deleted user's, is no one's)."""
        with key_parameters_hidden():
            async with self.engine.connect() as conn:
                row = (await conn.execute(text(
                    f"SELECT o.id, o.name, k.id AS key_id, u.id AS user_id, u.role, u.name AS user_name, u.email "
                    f"FROM {SCHEMA}.api_keys k JOIN {SCHEMA}.organizations o ON o.id = k.org_id "
                    f"LEFT JOIN {SCHEMA}.users u ON u.id = k.user_id WHERE k.key_hash = :h "
                    "AND k.revoked_at IS NULL AND (k.user_id IS NULL OR u.deleted_at IS NULL)"),
                    {"h": hash_key(key)})).first()
        if row is None:
            return None
        org = Organization(row.id, row.name)
        if row.user_id is None:
            return KeyHolder(org, row.key_id)
        return KeyHolder(org, row.key_id, row.user_id, row.role, row.user_name, row.email)
