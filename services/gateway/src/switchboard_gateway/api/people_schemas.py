"""Request bodies of users and teams. An email is one address (no space or control character, one `@`,
a dot in the domain); it is unique in the organization whatever its case."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .provider_config import Strict

# no space or control character (C0, DEL, C1), spelled out: `\s` differs between regex engines (ECMA-262,
# Python's, pydantic's), and the document's readers must accept exactly what the API accepts
EMAIL_PATTERN = r"^[^@\x00-\x20\x7f-\x9f]+@[^@\x00-\x20\x7f-\x9f]+\.[^@\x00-\x20\x7f-\x9f]+$"
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN, examples=["ana@example.com"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Role = Literal["admin", "agent", "viewer"]


def _changes(schema: dict) -> None:
    """A PATCH body: at least one field; a field left out is not null (there is no default to send)."""
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


CHANGES = ConfigDict(extra="forbid", json_schema_extra=_changes)


class CreateUser(Strict):
    email: Email
    name: Name
    role: Role


class UpdateUser(Strict):
    """The fields to change (at least one); those left out stay as they are."""

    model_config = CHANGES

    email: Email = None
    name: Name = None
    role: Role = None


class CreateTeam(Strict):
    name: Name


class UpdateTeam(Strict):
    name: Name


class AddMember(Strict):
    user_id: str = Field(min_length=1, max_length=64, description="A user of the organization")
