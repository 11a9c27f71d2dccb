"""The routes an app serves, flattened (FastAPI keeps included routers as branches, so `app.routes` lists
routers, not the paths they serve): each route's path pattern, methods and whether it is documented."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi import routing
from starlette.routing import compile_path


@dataclass(frozen=True)
class Served:
    path: str
    regex: re.Pattern
    methods: frozenset[str]
    documented: bool


def _contexts(app: FastAPI):
    if hasattr(routing, "iter_route_contexts"):  # FastAPI ≥ 0.16x: included routers are branches
        return list(routing.iter_route_contexts(app.routes))
    return list(app.routes)


def served_routes(app: FastAPI) -> list[Served]:
    out = []
    for route in _contexts(app):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods:
            out.append(Served(path, compile_path(path)[0], frozenset(methods),
                              bool(getattr(route, "include_in_schema", True))))
    return out


def methods_at(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at this concrete path (what a 405's `Allow` names)."""
    return sorted({m for r in served_routes(app) if r.regex.match(path) for m in r.methods})
