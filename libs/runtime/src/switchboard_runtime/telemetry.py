"""OpenTelemetry set-up and W3C trace-context propagation through CloudEvents' `traceparent`."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased


def configure_tracing(service: str, exporter: str = "none") -> TracerProvider:
    """With no exporter, spans still get trace ids (so `traceparent` travels on commands and events)
    but are not recorded: nobody would read them, and recording costs every request."""
    sampler = ParentBased(ALWAYS_OFF) if exporter == "none" else None
    provider = TracerProvider(resource=Resource.create({"service.name": f"switchboard-{service}"}),
                              sampler=sampler)
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":  # pragma: no cover - needs the optional exporter package
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def fastapi_telemetry(exporter: str = "none") -> dict:
    """FastAPI's native telemetry, on the same terms: request spans only when they are exported."""
    return {"tracing": exporter != "none"}


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None):
    return propagate.extract({"traceparent": traceparent} if traceparent else {})
