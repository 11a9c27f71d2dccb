"""Every error is JSON `{"error": {"code", "message", "details"}}` with a fitting status; bad input is
never a 500."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard_runtime.logs import get_logger

from .openapi import RETRY_AFTER_SECONDS
from .routes import methods_at

log = get_logger(__name__)

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
                415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
                503: "unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}
        self.headers = dict(headers or {})
        if status == 503:  # "retry later": say when (documented on every 503 by openapi.responses)
            self.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


UNSTORABLE_TEXT = ("22P05", "22021")  # PostgreSQL: untranslatable character, character not in repertoire


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _unstorable() -> JSONResponse:
    return JSONResponse(error_body("validation_error", "the text contains a character that cannot be stored "
                                   "(NUL, or invalid UTF-8)"), status_code=422)


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status,
                            headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = next(e for e in errors if e.get("type") == "json_invalid")
            return JSONResponse(error_body("malformed_json", "the body is not valid JSON",
                                           {"reason": str(detail.get("ctx", {}).get("error", ""))}),
                                status_code=400)
        fields = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", ""),
                   "type": e.get("type", "")} for e in errors]
        names = ", ".join(sorted({f["field"] for f in fields}))
        return JSONResponse(error_body("validation_error", f"invalid fields: {names}", {"fields": fields}),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # Starlette names only the methods of the first route whose path matched
            # (an app that forwards whole subtrees elsewhere says what is served there: state.allowed_methods)
            hook = getattr(request.app.state, "allowed_methods", None)
            methods = (hook(request.url.path) if hook else None) or methods_at(request.app, request.url.path)
            headers["Allow"] = ", ".join(methods) or headers.get("Allow", "")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(DBAPIError)  # answered here, not re-raised to the server (a dropped connection)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if _sqlstate(exc) in UNSTORABLE_TEXT:
            return _unstorable()
        log.error("database error", error=repr(exc), exc_info=exc)
        return JSONResponse(error_body("unavailable", "the database did not answer as expected; retry later"),
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if _sqlstate(exc) in UNSTORABLE_TEXT:  # bad input is never a 500, even past validation
            return _unstorable()
        log.error("unhandled error", error=repr(exc), exc_info=exc)
        return JSONResponse(error_body("internal_error", "an unexpected error occurred"), status_code=500)
