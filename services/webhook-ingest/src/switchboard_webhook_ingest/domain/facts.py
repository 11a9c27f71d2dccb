"""A fact derived from a webhook: the CloudEvent to publish (serialized once), on the fact's own
subject in SWITCHBOARD_INGEST (the digest of its deterministic id), so that publishing it again is
refused as a repeat."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from switchboard_contracts.envelope import CloudEvent, envelope_json
from switchboard_contracts.subjects import ingest_subject

SOURCE = "switchboard/webhook-ingest"


@dataclass(frozen=True)
class Fact:
    id: str  # the CloudEvents id (and Nats-Msg-Id)
    subject: str  # `sb.ingest.<org>.<entity>.<event>.<digest of id>`
    payload: bytes  # the CloudEvents JSON document

    @property
    def event(self) -> CloudEvent:
        return CloudEvent.from_json_bytes(self.payload)


def fact(*, id: str, type: str, orgid: str, data: BaseModel, subject: str, time: datetime | None = None) -> Fact:
    _, entity, name, _ = type.split(".")
    payload = envelope_json(id=id, source=SOURCE, type=type, orgid=orgid, data=data, subject=subject, time=time)
    digest = hashlib.blake2b(id.encode(), digest_size=16).hexdigest()
    return Fact(id, ingest_subject(orgid, entity, name, digest), payload)


class NotADelivery(ValueError):
    """The body is well-formed JSON but not a delivery of the provider it was posted as."""
