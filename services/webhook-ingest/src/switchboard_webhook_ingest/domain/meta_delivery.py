"""The shape of a Meta Cloud API webhook delivery (only what we read; everything else is kept)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .facts import NotADelivery


class Loose(BaseModel):
    """Fields we do not read are ignored, not kept (a delivery carries more than we need)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class WithBody(BaseModel):
    """A message keeps its unknown fields: the type-specific body (`text`, `image`, `order`...)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Metadata(Loose):
    display_phone_number: str | None = None
    phone_number_id: str


class Contact(Loose):
    wa_id: str | None = None
    user_id: str | None = None
    profile: dict[str, Any] = Field(default_factory=dict)


class ProviderError(WithBody):
    code: int | str
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None

    @property
    def detail(self) -> str | None:
        return (self.error_data or {}).get("details") or self.message


class InboundMessage(WithBody):
    id: str = Field(min_length=1)
    from_: str = Field(alias="from", min_length=1)
    from_user_id: str | None = None
    timestamp: str | int
    type: str
    context: dict[str, Any] | None = None
    errors: list[ProviderError] | None = None


class StatusUpdate(Loose):
    id: str = Field(min_length=1)
    status: str
    timestamp: str | int
    recipient_id: str | None = None
    recipient_type: str | None = None  # "individual" (a phone number) or "group" (a group id)
    recipient_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    conversation: dict[str, Any] | None = None
    pricing: dict[str, Any] | None = None
    errors: list[ProviderError] | None = None


class ChangeValue(Loose):
    messaging_product: str | None = None
    metadata: Metadata
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[InboundMessage] = Field(default_factory=list)
    statuses: list[StatusUpdate] = Field(default_factory=list)
    errors: list[ProviderError] = Field(default_factory=list)


class Change(Loose):
    field: str
    # Parsed as a message change where it is one; other fields (and broken message changes, which
    # message_changes() then reports precisely) stay plain.
    value: ChangeValue | dict[str, Any] = Field(union_mode="left_to_right")


class Entry(Loose):
    id: str  # the WhatsApp Business Account (WABA) id
    time: Any = None  # unix seconds, on template updates (never checked: only an identity)
    changes: list[Change]


class Delivery(Loose):
    object: str
    entry: list[Entry] = Field(min_length=1)


def check_object(delivery: Delivery) -> None:
    if delivery.object != "whatsapp_business_account":
        raise NotADelivery(f"object is {delivery.object!r}, not 'whatsapp_business_account'")


def message_changes(delivery: Delivery) -> list[tuple[int, int, ChangeValue]]:
    """(entry index, change index, value) of every `messages` change, in order; other fields
    (template updates: meta_templates.py; account updates) are not message traffic and are skipped."""
    check_object(delivery)
    return [(i, j, change.value if isinstance(change.value, ChangeValue) else ChangeValue.model_validate(change.value))
            for i, entry in enumerate(delivery.entry)
            for j, change in enumerate(entry.changes) if change.field == "messages"]


def delivery_phone_number_ids(delivery: Delivery) -> set[str]:
    """The phone_number_ids a parsed delivery names."""
    ids = set()
    for entry in delivery.entry:
        for change in entry.changes:
            if isinstance(change.value, ChangeValue):
                ids.add(change.value.metadata.phone_number_id)
            else:
                ids |= phone_number_ids({"entry": [{"changes": [{"value": change.value}]}]}) or set()
    return ids


def phone_number_ids(doc: object) -> set[str] | None:
    """The phone_number_ids a parsed body names (before it is validated, to pick the secret that
    signed it); None when it does not look like a Meta delivery at all."""
    if not isinstance(doc, dict) or not isinstance(doc.get("entry"), list):
        return None
    ids: set[str] = set()
    for entry in doc["entry"]:
        for change in (entry.get("changes") if isinstance(entry, dict) else None) or []:
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            if isinstance(metadata, dict) and isinstance(metadata.get("phone_number_id"), str):
                ids.add(metadata["phone_number_id"])
    return ids
