"""`/healthz` (the process is up) and `/readyz` (NATS, PostgreSQL and every required service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from switchboard_runtime.http.openapi import responses
from switchboard_runtime.messaging.heartbeat import ready_services

from .deps import Deps, Principal, current_principal, deps

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool]
    missing: list[str]


READINESS = {200: {"model": Readiness, "description": "Everything answers"},
             503: {"model": Readiness, "description": "Something does not answer: `missing` names it"}}


@router.get("/healthz")
async def healthz():
    return {"status": "ok"}


@router.get("/readyz", responses=READINESS)
async def readyz(d: Deps = Depends(deps)):
    nats_ok = d.bus.connected
    checks = {"nats": nats_ok, "postgres": await d.queries.database_ok()}
    ready = set()
    if nats_ok:
        try:
            ready = await ready_services(d.bus.js)
        except Exception:  # noqa: BLE001
            checks["nats"] = False
    for service in d.settings.required_services:
        checks[f"service:{service}"] = service in ready
    ok = all(checks.values())
    missing = sorted(k for k, v in checks.items() if not v)
    return JSONResponse({"ready": ok, "checks": checks, "missing": missing}, status_code=200 if ok else 503)


@router.get("/v1/me", tags=["organization"], responses=responses(401))
async def me(principal: Principal = Depends(current_principal)):
    """The organization the key belongs to, the role it acts with and the actor events name for it (and,
    for a user's key, the user)."""
    out = {"org_id": principal.org.id, "name": principal.org.name, "role": principal.role,
           "actor": principal.actor}
    if principal.user is not None:
        out["user"] = principal.user
    return out
