"""A fact derived from a webhook: the event to publish and the keys that recognise it again."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard_contracts.envelope import CloudEvent

SOURCE = "switchboard/webhook-ingest"


@dataclass(frozen=True)
class Fact:
    event: CloudEvent
    # The fact was already published if any of these was seen (event id; WAHA also its envelope id).
    keys: tuple[str, ...]


class NotADelivery(ValueError):
    """The body is well-formed JSON but not a delivery of the provider it was posted as."""
