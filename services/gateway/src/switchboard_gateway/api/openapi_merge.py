"""The one OpenAPI document of the public API, served at `/openapi.json` (and shown at `/docs`): the
gateway's own operations, merged with the operations of every service the gateway forwards to, as that
service documents them at its own `/openapi.json`. Each upstream document is fetched when first asked
for and cached; one that cannot be fetched is asked again on a later request (the document is served
without it meanwhile, naming it under `x-switchboard-unavailable`)."""

from __future__ import annotations

import asyncio
import copy
import re
import time
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from switchboard_runtime.http.openapi import error_response_object, error_schemas
from switchboard_runtime.http.routes import served_routes
from switchboard_runtime.logs import get_logger

from ..roles import refusable

log = get_logger(__name__)

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SECURITY = [{"ApiKey": []}]
API_KEY_SCHEME = {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An organization's API key"}
GATEWAY_ANSWERS = (401, 503)  # what the gateway itself answers for a forwarded operation (and 413 for a body,
# 403 where a role may be refused: `roles.refusable`)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}/]+\}", "x", path)


def _rename_refs(node: Any, renamed: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {k: _rename_refs(v, renamed) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.removeprefix("#/components/schemas/")
            out["$ref"] = "#/components/schemas/" + renamed.get(name, name)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, renamed) for v in node]
    return node


def merge(local: dict, upstreams: dict[str, dict], forwarded) -> dict:
    """`local` with the operations of each upstream document that `forwarded(path, method)` says the
    gateway forwards. Schemas of the same name and content are kept once; a different schema under a
    name already taken is renamed `<upstream>.<name>` (and every reference to it follows)."""
    doc = copy.deepcopy(local)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in error_schemas().items():
        schemas.setdefault(name, schema)
    doc["components"].setdefault("securitySchemes", {})["ApiKey"] = API_KEY_SCHEME
    operation_ids = {op.get("operationId") for item in doc.get("paths", {}).values()
                     for m, op in item.items() if m in METHODS}
    for path, item in doc.get("paths", {}).items():  # the gateway's body limit answers for its own routes too
        for method, op in item.items():
            if method in METHODS and "requestBody" in op:
                op.setdefault("responses", {}).setdefault("413", error_response_object(413))
            if method in METHODS and op.get("security") and refusable(method, _concrete(path)):
                op.setdefault("responses", {}).setdefault("403", error_response_object(403))
    for upstream, theirs in upstreams.items():
        renamed = {name: f"{upstream}.{name}" for name, schema in theirs.get("components", {}).get("schemas", {}).items()
                   if name in schemas and schemas[name] != schema}
        theirs = _rename_refs(theirs, renamed)
        used = False
        for path, item in theirs.get("paths", {}).items():
            ops = {m: op for m, op in item.items() if m in METHODS and forwarded(path, m)}
            if not ops or path in doc["paths"]:  # the gateway's own operation wins while both exist
                continue
            used = True
            merged_item = {k: v for k, v in item.items() if k not in METHODS}
            for method, op in ops.items():
                op = dict(op)
                op["security"] = SECURITY
                answers = dict(op.get("responses", {}))
                statuses = GATEWAY_ANSWERS + ((413,) if "requestBody" in op else ()) + (
                    (403,) if refusable(method, _concrete(path)) else ())
                for status in statuses:
                    answers.setdefault(str(status), error_response_object(status))
                op["responses"] = dict(sorted(answers.items()))
                if op.get("operationId") in operation_ids:
                    op["operationId"] = f"{upstream}_{op['operationId']}"
                operation_ids.add(op.get("operationId"))
                merged_item[method] = op
            doc["paths"][path] = merged_item
        if used:
            for name, schema in theirs.get("components", {}).get("schemas", {}).items():
                schemas.setdefault(renamed.get(name, name), schema)
    for name in list(schemas):
        if name not in ANSWER_SCHEMAS:
            schemas[name] = _without_nul(schemas[name])
    for item in doc["paths"].values():  # bodies documented inline (read by hand), and parameters
        for method, op in item.items():
            if method in METHODS:
                if "requestBody" in op:
                    op["requestBody"] = _without_nul(op["requestBody"])
                if "parameters" in op:
                    op["parameters"] = _without_nul(op["parameters"])
    return doc


ANSWER_SCHEMAS = {"ErrorBody", "ErrorDetail", "HTTPValidationError", "ValidationError"}
NO_NUL = "^[^\\x00]*$"


def _without_nul(node: Any) -> Any:
    """Request strings never hold NUL (PostgreSQL cannot store it; every service refuses it with a 422):
    the document says so on every string that has no pattern of its own."""
    if isinstance(node, dict):
        if "format" in node:  # a format of its own (a cursor, a phone number, a uuid) says what the value is
            return node
        out = {k: _without_nul(v) for k, v in node.items()}
        if out.get("type") == "string" and "pattern" not in out and "format" not in out and "enum" not in out \
                and "const" not in out:
            out["pattern"] = NO_NUL
        return out
    if isinstance(node, list):
        return [_without_nul(v) for v in node]
    return node


class MergedOpenApi:
    """The merged document, with each upstream's own document cached for `ttl` seconds (a failed fetch
    is tried again after `retry` seconds; the last good copy is kept meanwhile)."""

    def __init__(self, app: FastAPI, upstreams: dict[str, str], ttl: float = 300.0, retry: float = 1.0,
                 timeout: float = 3.0):
        self.app, self.upstreams, self.ttl, self.retry, self.timeout = app, upstreams, ttl, retry, timeout
        self._docs: dict[str, dict] = {}
        self._fetched: dict[str, float] = {}  # upstream → when it was last asked (success or not)
        self._lock = asyncio.Lock()
        self._routes = None
        self.transport: httpx.AsyncBaseTransport | None = None  # tests answer for the upstreams

    def forwarded(self, path: str, method: str) -> bool:
        """Whether one of the gateway's forwarding routes (not in its own schema) serves this operation."""
        concrete = _concrete(path)
        if self._routes is None:
            self._routes = [r for r in served_routes(self.app) if not r.documented]
        return any(method.upper() in r.methods and r.regex.match(concrete) for r in self._routes)

    def methods_for(self, path: str) -> list[str] | None:
        """The methods served at a concrete path, as the merged document says (the gateway's forwarding
        routes take every method for a whole subtree; the upstream's document knows which it serves).
        None when no upstream document describes the path."""
        matching = [(template, item) for doc in self._docs.values() for template, item in doc.get("paths", {}).items()
                    if re.fullmatch(re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(template)), path)]
        if any(template == path for template, _ in matching):  # a literal path wins over a template
            matching = [(template, item) for template, item in matching if template == path]
        methods = {m.upper() for template, item in matching for m in item
                   if m in METHODS and self.forwarded(template, m)}
        if not methods:
            return None
        own = {m for r in served_routes(self.app) if r.documented and r.regex.match(path) for m in r.methods}
        return sorted(methods | own | ({"HEAD"} if "GET" in methods else set()))

    async def _fetch(self, client: httpx.AsyncClient, name: str, url: str) -> None:
        try:
            response = await client.get(url.rstrip("/") + "/openapi.json")
            response.raise_for_status()
            doc = response.json()
            if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
                raise ValueError("not an OpenAPI document")
            self._docs[name] = doc
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("upstream OpenAPI document not available", upstream=name, error=repr(exc))

    async def refresh(self) -> None:
        now = time.monotonic()
        due = {name: url for name, url in self.upstreams.items()
               if now - self._fetched.get(name, -1e9) >= (self.ttl if name in self._docs else self.retry)}
        if not due:
            return
        async with self._lock, httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
            await asyncio.gather(*(self._fetch(client, n, u) for n, u in due.items()))
            for name in due:
                self._fetched[name] = time.monotonic()

    async def document(self) -> dict:
        await self.refresh()
        doc = merge(self.app.openapi(), {n: self._docs[n] for n in self.upstreams if n in self._docs},
                    self.forwarded)
        missing = sorted(set(self.upstreams) - set(self._docs))
        if missing:
            doc["x-switchboard-unavailable"] = missing
        return doc


def install(app: FastAPI, upstreams: dict[str, str]) -> MergedOpenApi:
    """Serve the merged document at the app's `openapi_url` (FastAPI's `/docs` reads it from there)."""
    merged = MergedOpenApi(app, upstreams)
    url = app.openapi_url or "/openapi.json"
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != url]

    async def openapi_document():
        return JSONResponse(await merged.document())

    app.add_api_route(url, openapi_document, methods=["GET"], include_in_schema=False)
    app.state.openapi = merged
    app.state.allowed_methods = merged.methods_for  # a 405's `Allow` (switchboard_runtime.http.errors)
    return merged
