"""This API refuses explicit `null`s in request bodies (leave a field out instead), so its OpenAPI
document must not offer them: `without_nulls` strips `null` from every request schema it publishes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        for key in ("anyOf", "oneOf"):
            if key in node:
                kept = [_strip(s) for s in node[key] if s != {"type": "null"}]
                if len(kept) == 1 and key == "anyOf":
                    merged = {k: v for k, v in node.items() if k != key}
                    merged.update(kept[0])
                    node = merged
                else:
                    node[key] = kept
        if node.get("default", 0) is None:
            node = {k: v for k, v in node.items() if k != "default"}
        if isinstance(node.get("properties"), dict):  # "null if given" is "not given" here
            node = {**node, "properties": {k: False if v == {"type": "null"} else v
                                           for k, v in node["properties"].items()}}
        return {k: _strip(v) if k not in ("anyOf", "oneOf") else v for k, v in node.items()}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def without_nulls(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            components = schema.get("components", {})
            components["schemas"] = {name: _strip(s) for name, s in components.get("schemas", {}).items()}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
