"""What an operation can answer besides success, for its OpenAPI document: every error is the one JSON
shape `{"error": {"code", "message", "details"}}` (errors.py), and every status a route can answer is
listed — `@router.get(..., responses=responses(401, 404, 422))`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

RETRY_AFTER_SECONDS = 2  # what a 503 from errors.py tells the client to wait (header Retry-After)

DESCRIPTIONS = {
    400: "Malformed request: the body is not valid JSON, or a cursor this API did not issue",
    401: "Missing or invalid X-API-Key",
    403: "The key's role may not do this",
    404: "Not found (in this organization)",
    409: "Conflict with the resource's current state",
    413: "The body is too large",
    415: "Unsupported content type",
    422: "Invalid fields",
    429: "Too many requests",
    502: "The provider (Meta, WAHA) failed or refused",
    503: "A dependency is not available (or did not answer in time); retry after `Retry-After` seconds",
}

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying",
                               "schema": {"type": "integer", "minimum": 0}, "required": True}}


class ErrorDetail(BaseModel):
    model_config = ConfigDict(title="ErrorDetail")

    code: str = Field(description="Machine-readable, e.g. `not_found`, `validation_error`, `conflict`")
    message: str = Field(description="For humans; never contains secrets")
    details: dict[str, Any] = Field(default_factory=dict, description="e.g. `{\"fields\": [...]}` or `{\"field\": ...}`")


class ErrorBody(BaseModel):
    """Every error answer of every Switchboard API."""

    model_config = ConfigDict(title="ErrorBody")

    error: ErrorDetail


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One FastAPI `responses=` entry: the error schema, and `Retry-After` on 503."""
    out: dict[str, Any] = {"model": ErrorBody, "description": description or DESCRIPTIONS.get(status, "Error")}
    if status == 503:
        out["headers"] = RETRY_AFTER
    return out


def responses(*statuses: int, **described: Any) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=` for the error statuses a route can answer, each with the error schema:
    `responses(400, 401, 404, 409, 422)`. Give a status a description of its own as `s409="…"`; add
    other answers as plain entries: `{**responses(401), 200: {"content": {"image/png": {}}}}`."""
    out: dict[int | str, dict[str, Any]] = {s: error_response(s) for s in statuses}
    for key, description in described.items():
        status = int(key.lstrip("s"))
        out[status] = error_response(status, description)
    return out


def error_response_object(status: int, ref: str = "#/components/schemas/ErrorBody") -> dict[str, Any]:
    """The same answer as a plain OpenAPI response object (for documents edited after generation, e.g.
    the gateway's merge of the services' documents)."""
    out: dict[str, Any] = {"description": DESCRIPTIONS.get(status, "Error"),
                           "content": {"application/json": {"schema": {"$ref": ref}}}}
    if status == 503:
        out["headers"] = RETRY_AFTER
    return out


def error_schemas() -> dict[str, Any]:
    """`components.schemas` entries for ErrorBody and ErrorDetail (refs in OpenAPI form)."""
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"ErrorBody": schema, **defs}


def inline_schema(model: type[BaseModel], *, partial: bool = False) -> dict[str, Any]:
    """The model's JSON Schema with its `$defs` inlined, for an operation FastAPI cannot describe itself
    (a handler that reads the request directly). `partial`: any non-empty subset of the fields (a PATCH)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve({**defs[ref.removeprefix("#/$defs/")], **{k: v for k, v in node.items() if k != "$ref"}})
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    schema = resolve(schema)
    if partial:
        for key in ("required", "allOf", "oneOf", "anyOf"):
            schema.pop(key, None)
        schema["minProperties"] = 1
    return schema


def json_body(model: type[BaseModel], *, partial: bool = False, **other_content: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra=` documenting a JSON request body the handler reads itself (and other media types,
    given by name with `_` for `/`: `text_csv={"schema": {"type": "string"}}`)."""
    content = {"application/json": {"schema": inline_schema(model, partial=partial)}}
    content.update({name.replace("_", "/", 1): value for name, value in other_content.items()})
    return {"requestBody": {"required": True, "content": content}}
