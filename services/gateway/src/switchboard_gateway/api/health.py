"""`/healthz` (the process is up) and `/readyz` (NATS, PostgreSQL and every required service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from switchboard_runtime.http.openapi import responses
from switchboard_runtime.messaging.heartbeat import ready_services

from ..orgs import Organization
from .deps import Deps, current_org, deps

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
async def me(org: Organization = Depends(current_org)):
    return {"org_id": org.id, "name": org.name}
