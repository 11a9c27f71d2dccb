"""Structured logging (JSON in production, readable in dev) with orgid, correlationid and trace id."""

from __future__ import annotations

import logging
import sys

import structlog
from opentelemetry import trace


def _add_trace_id(_logger: object, _name: str, event: dict) -> dict:
    span = trace.get_current_span()
    ctx = span.get_span_context()
    if ctx.is_valid:
        event.setdefault("trace_id", format(ctx.trace_id, "032x"))
    return event


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is when a line is written, not the one of start-up: a test runner
    swaps it for each test and closes the old one (a logger holding that one fails on a closed file)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def configure_logging(service: str, fmt: str = "json", level: str = "INFO") -> None:
    renderer = (structlog.processors.JSONRenderer() if fmt == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_id,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStdout()),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Third-party libraries log through stdlib logging: route it to the same output, warnings and up.
    handler = logging.StreamHandler(_CurrentStdout())
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


def bind_event_context(orgid: str | None, correlationid: str | None) -> None:
    structlog.contextvars.bind_contextvars(orgid=orgid, correlationid=correlationid)
