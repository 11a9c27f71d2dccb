"""Idempotent declaration of streams and key-value buckets from the specs in switchboard_contracts."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import (KeyValueConfig, RePublish, RetentionPolicy, StorageType, StreamConfig, StreamSource,
                         SubjectTransform)
from nats.js.errors import BucketNotFoundError, NotFoundError

from switchboard_contracts import streams as specs

from ..settings import ServiceSettings


def stream_config(spec: specs.StreamSpec) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        description=spec.description or None,
        retention=RetentionPolicy.WORK_QUEUE if spec.retention == "workqueue" else RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=float(spec.max_age_seconds),
        max_bytes=spec.max_bytes,
        max_msgs_per_subject=spec.max_msgs_per_subject,
        duplicate_window=float(spec.duplicate_window_seconds),
        sources=[StreamSource(name=src.stream, subject_transforms=[
            SubjectTransform(src=src.subject_from, dest=src.subject_to)]) for src in spec.sources] or None,
        republish=RePublish(src=spec.republish.src, dest=spec.republish.dest) if spec.republish else None,
        allow_msg_schedules=True if spec.allow_msg_schedules else None,
    )


def platform_streams(settings: ServiceSettings) -> list[specs.StreamSpec]:
    """The platform's streams, with the retention the operator configured."""
    events = specs.EVENTS.model_copy(update={
        "max_age_seconds": settings.events_max_age_days * specs.DAY,
        "max_bytes": settings.events_max_bytes,
    })
    dead = specs.DEAD_LETTERS.model_copy(update={
        "max_age_seconds": settings.dead_letters_max_age_days * specs.DAY,
    })
    ingest = specs.INGEST.model_copy(update={"max_age_seconds": settings.ingest_dedupe_days * specs.DAY})
    return [ingest, events, specs.COMMANDS, dead]


async def ensure_stream(js: JetStreamContext, spec: specs.StreamSpec) -> None:
    config = stream_config(spec)
    try:
        await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(config)
        return
    await js.update_stream(config)


async def ensure_streams(js: JetStreamContext, settings: ServiceSettings) -> None:
    for spec in platform_streams(settings):
        await ensure_stream(js, spec)


async def ensure_key_value(js: JetStreamContext, spec: specs.KeyValueSpec):
    try:
        return await js.key_value(spec.bucket)
    except BucketNotFoundError:
        return await js.create_key_value(KeyValueConfig(
            bucket=spec.bucket, description=spec.description or None, ttl=float(spec.ttl_seconds) or None,
            max_bytes=spec.max_bytes, direct=True,
        ))
