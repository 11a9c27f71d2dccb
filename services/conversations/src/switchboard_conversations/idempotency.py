"""`Idempotency-Key` on sends: the first request with a key stores its answer, in the transaction that
records what it sent; a retry with the same key and the same body gets that answer again (and sends
nothing); the same key with another body is a 409 naming the key. Keys are per organization."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard_runtime.http.errors import ApiError

from .tables import SCHEMA

CLAIM = text(f"""
    INSERT INTO {SCHEMA}.idempotency_keys (org_id, key, request_hash, response)
    VALUES (:org, :key, :hash, CAST(:response AS jsonb))
    ON CONFLICT (org_id, key) DO NOTHING RETURNING key""")
EARLIER = text(f"""SELECT request_hash, response FROM {SCHEMA}.idempotency_keys
                   WHERE org_id = :org AND key = :key""")


def request_hash(operation: str, body: object) -> str:
    """The same request → the same hash (the body as parsed, keys sorted)."""
    raw = json.dumps([operation, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


async def claim(conn: AsyncConnection, org: str, key: str, digest: str, response: dict) -> dict | None:
    """None when this is the key's first request (its answer is now stored with the transaction);
    else the earlier answer. Raises 409 when the key was used with another request."""
    if (await conn.execute(CLAIM, {"org": org, "key": key, "hash": digest,
                                   "response": json.dumps(response)})).first():
        return None
    earlier = (await conn.execute(EARLIER, {"org": org, "key": key})).first()
    if earlier.request_hash != digest:
        raise ApiError(409, "idempotency_key_reused",
                       "this Idempotency-Key was used with a different request; use a new key",
                       {"idempotency_key": key})
    return earlier.response
