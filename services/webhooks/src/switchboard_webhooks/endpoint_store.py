"""The endpoints table: CRUD for the API (each change and its webhook_endpoint.* event in one
transaction, through the outbox), the signing secrets sealed with SWITCHBOARD_SECRET_KEY (shown once, at
creation and rotation, never stored or logged in the clear), and what the delivery lanes record: the
head of line's retry state and a disable."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import webhook_endpoint as hooks
from switchboard_contracts.envelope import utcnow
from switchboard_runtime.http.pagination import keyset_page
from switchboard_runtime.outbox import OutboxTable
from switchboard_runtime.sealing import Sealer

from .domain import signing
from .events import endpoint_event
from .tables import SCHEMA

T = f"{SCHEMA}.endpoints"
SHOWN = ("id, org_id, url, event_types, description, enabled, disabled_reason, disabled_detail, disabled_at, "
         "position, head_seq, head_attempts, head_next_at, failing_since, version, created_at, updated_at")


def shown(row) -> dict:
    """An endpoint as the API shows it (never its secrets)."""
    return {"id": str(row.id), "url": row.url, "event_types": list(row.event_types), "description": row.description,
            "enabled": row.enabled, "disabled_reason": row.disabled_reason, "disabled_detail": row.disabled_detail,
            "disabled_at": row.disabled_at, "position": row.position,
            "retrying": {"sequence": row.head_seq, "attempts": row.head_attempts, "next_attempt_at": row.head_next_at}
            if row.head_seq is not None else None,
            "failing_since": row.failing_since, "created_at": row.created_at, "updated_at": row.updated_at}


@dataclass
class Keys:
    """An endpoint's signing keys now: the current secret's, and the previous one's until it expires."""

    current: bytes
    previous: bytes | None
    previous_expires_at: datetime | None

    def signing(self, now: datetime) -> list[bytes]:
        if self.previous is not None and self.previous_expires_at is not None and now < self.previous_expires_at:
            return [self.current, self.previous]
        return [self.current]


class EndpointStore:
    def __init__(self, engine: AsyncEngine, outbox: OutboxTable, sealer: Sealer, wake: Callable[[], None]):
        self.engine, self.outbox, self.sealer, self.wake = engine, outbox, sealer, wake

    def _seal(self, current: str, previous: str | None = None, expires: datetime | None = None) -> str:
        secrets = {"current": current}
        if previous:
            secrets |= {"previous": previous, "previous_expires_at": expires.isoformat()}
        return self.sealer.seal(secrets)

    def keys(self, sealed: str) -> Keys:
        s = self.sealer.unseal(sealed)
        expires = datetime.fromisoformat(s["previous_expires_at"]) if s.get("previous_expires_at") else None
        return Keys(signing.key_of(s["current"]), signing.key_of(s["previous"]) if s.get("previous") else None,
                    expires)

    # --- the API ----------------------------------------------------------------------------------

    async def create(self, org: str, fields: dict, actor: dict, position: int) -> tuple[dict, str]:
        """The new endpoint (delivering what is published after `position`) and its secret, shown once."""
        secret, now = signing.new_secret(), utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(text(f"""
                INSERT INTO {T} (id, org_id, url, event_types, description, enabled, secrets, position,
                                 created_at, updated_at)
                VALUES (:id, :org, :url, :types, :description, :enabled, :secrets, :position, :now, :now)
                RETURNING {SHOWN}"""), {"id": str(uuid.uuid4()), "org": org, "url": fields["url"],
                                         "types": fields["event_types"], "description": fields["description"],
                                         "enabled": fields["enabled"], "secrets": self._seal(secret),
                                         "position": position, "now": now})).one()
            await self.outbox.add(conn, [endpoint_event(hooks.CREATED, row, actor, now)])
        self.wake()
        return shown(row), secret

    async def get(self, org: str, endpoint_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(f"SELECT {SHOWN} FROM {T} WHERE id = :id AND org_id = :org"),
                                      {"id": endpoint_id, "org": org})).one_or_none()
        return shown(row) if row else None

    async def page(self, org: str, cursor: str | None, limit: int) -> dict:
        return await keyset_page(self.engine, f"SELECT {SHOWN} FROM {T} WHERE org_id = :org", "ASC", cursor,
                                 limit, "created_at", shown, org=org)

    async def update(self, org: str, endpoint_id: str, changes: dict, actor: dict) -> dict | None:
        """Change url, event_types, description or enabled. Enabling a disabled endpoint clears why it was
        disabled and how long it was failing: delivery goes on from its position, the head retried now."""
        now = utcnow()
        async with self.engine.begin() as conn:
            before = (await conn.execute(text(f"SELECT enabled FROM {T} WHERE id = :id AND org_id = :org FOR UPDATE"),
                                         {"id": endpoint_id, "org": org})).one_or_none()
            if before is None:
                return None
            sets = [f"{k} = :{k}" for k in ("url", "event_types", "description", "enabled") if k in changes]
            enabling = changes.get("enabled") is True and not before.enabled
            disabling = changes.get("enabled") is False and before.enabled
            if enabling:
                sets += ["disabled_reason = NULL", "disabled_detail = NULL", "disabled_at = NULL",
                         "failing_since = NULL", "head_next_at = NULL", "head_attempts = 0"]
            if disabling:
                sets += ["disabled_reason = 'api'", "disabled_detail = 'disabled through the API'",
                         "disabled_at = :now"]
            row = (await conn.execute(text(f"""
                UPDATE {T} SET {", ".join(sets + ["version = version + 1", "updated_at = :now"])}
                WHERE id = :id RETURNING {SHOWN}, org_id"""),
                {**changes, "id": endpoint_id, "now": now})).one()
            if enabling:
                event = endpoint_event(hooks.ENABLED, row, actor, now)
            elif disabling:
                event = endpoint_event(hooks.DISABLED, row, actor, now, reason="api",
                                       detail="disabled through the API")
            else:
                event = endpoint_event(hooks.UPDATED, row, actor, now)
            await self.outbox.add(conn, [event])
        self.wake()
        return shown(row)

    async def delete(self, org: str, endpoint_id: str, actor: dict) -> bool:
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(text(f"""
                DELETE FROM {T} WHERE id = :id AND org_id = :org
                RETURNING id, org_id, url, event_types, description, false AS enabled, version + 1 AS version"""),
                {"id": endpoint_id, "org": org})).one_or_none()
            if row is None:
                return False
            await conn.execute(text(f"DELETE FROM {SCHEMA}.attempts WHERE endpoint_id = :id"), {"id": endpoint_id})
            await self.outbox.add(conn, [endpoint_event(hooks.DELETED, row, actor, now)])
        self.wake()
        return True

    async def rotate(self, org: str, endpoint_id: str, actor: dict, overlap: timedelta) -> dict | None:
        """A new secret; the current one keeps signing beside it for `overlap`."""
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(text(f"SELECT secrets FROM {T} WHERE id = :id AND org_id = :org FOR UPDATE"),
                                      {"id": endpoint_id, "org": org})).one_or_none()
            if row is None:
                return None
            secret, expires = signing.new_secret(), now + overlap
            sealed = self._seal(secret, self.sealer.unseal(row.secrets)["current"], expires)
            row = (await conn.execute(text(f"""
                UPDATE {T} SET secrets = :secrets, version = version + 1, updated_at = :now WHERE id = :id
                RETURNING {SHOWN}"""), {"secrets": sealed, "now": now, "id": endpoint_id})).one()
            await self.outbox.add(conn, [endpoint_event(hooks.SECRET_ROTATED, row, actor, now,
                                                        previous_secret_expires_at=expires)])
        self.wake()
        return {"secret": secret, "previous_secret_expires_at": expires, "endpoint": shown(row)}

    # --- the lanes --------------------------------------------------------------------------------

    async def load(self, endpoint_id: str):
        """Everything a lane needs of its endpoint (its sealed secrets too), or None once it is gone."""
        async with self.engine.connect() as conn:
            return (await conn.execute(text(f"SELECT {SHOWN}, secrets FROM {T} WHERE id = :id"),
                                       {"id": endpoint_id})).one_or_none()

    async def record_head(self, endpoint_id: str, seq: int, attempts: int, next_at: datetime | None,
                          failing_since: datetime | None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(f"""
                UPDATE {T} SET head_seq = :seq, head_attempts = :attempts, head_next_at = :next_at,
                               failing_since = :failing_since WHERE id = :id"""),
                {"id": endpoint_id, "seq": seq, "attempts": attempts, "next_at": next_at,
                 "failing_since": failing_since})

    async def disable(self, endpoint_id: str, reason: str, detail: str,
                      failing_since: datetime | None = None) -> None:
        """The system disables an endpoint (410 Gone, or failing for days): webhook_endpoint.disabled."""
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(text(f"""
                UPDATE {T} SET enabled = false, disabled_reason = :reason, disabled_detail = :detail,
                               disabled_at = :now, version = version + 1, updated_at = :now
                WHERE id = :id AND enabled RETURNING {SHOWN}, org_id"""),
                {"id": endpoint_id, "reason": reason, "detail": detail, "now": now})).one_or_none()
            if row is None:
                return
            await self.outbox.add(conn, [endpoint_event(
                hooks.DISABLED, row, {"type": "system", "id": f"webhook_{reason}"}, now, reason=reason,
                detail=detail, failing_since=failing_since)])
        self.wake()

    # --- leases -----------------------------------------------------------------------------------

    async def claim(self, owner: str, lease: timedelta) -> dict[str, int]:
        """The enabled endpoints this replica delivers to (id → version): its own, renewed, and those
        whose lease lapsed (their replica stopped or died)."""
        async with self.engine.begin() as conn:
            rows = await conn.execute(text(f"""
                UPDATE {T} SET owner = :owner, lease_until = now() + :lease
                WHERE enabled AND (owner = :owner OR owner IS NULL OR lease_until < now())
                RETURNING id, version"""), {"owner": owner, "lease": lease})
            return {str(r.id): r.version for r in rows}

    async def release(self, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(f"UPDATE {T} SET owner = NULL, lease_until = NULL WHERE owner = :owner"),
                               {"owner": owner})
