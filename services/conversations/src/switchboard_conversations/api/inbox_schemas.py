"""Request bodies of the inbox's actions on a conversation (`/v1/conversations/{id}/…`) and of canned
responses. No field takes `null` (leave it out); `"none"` clears an assignee or a team."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from switchboard_contracts.content import SPACE_OR_NUL

Id = Annotated[str, Field(min_length=1, max_length=64)]
Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=rf"^[^{SPACE_OR_NUL}]([^\x00]*[^{SPACE_OR_NUL}])?$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignRequest(Strict):
    """`agent_id`: a user id, `me` (the calling user) or `none`; `team_id`: a team id or `none`. A field
    left out keeps what the conversation has; at least one is given."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [{"required": ["agent_id"]},
                                                                           {"required": ["team_id"]}]})
    agent_id: Id = None
    team_id: Id = None

    @model_validator(mode="after")
    def _one(self):
        if self.agent_id is None and self.team_id is None:
            raise ValueError("give agent_id, team_id or both")
        return self


class StatusRequest(Strict):
    """`snoozed_until` (only with `snoozed`): a future time; without it a snooze lasts until the
    contact's next message."""

    status: Literal["open", "pending", "snoozed", "resolved", "archived"]
    snoozed_until: AwareDatetime = None


class PriorityRequest(Strict):
    priority: Literal["urgent", "high", "medium", "low", "none"]


class TagsRequest(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [{"required": ["add"]},
                                                                           {"required": ["remove"]}]})
    add: list[Tag] = Field(default=None, min_length=1, max_length=50)
    remove: list[Tag] = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _some(self):
        if not (self.add or self.remove):
            raise ValueError("give tags to add or to remove")
        return self


class NoteRequest(Strict):
    text: str = Field(min_length=1, max_length=10_000)


class CustomerRequest(Strict):
    customer_id: str = Field(min_length=1, max_length=255)


ShortCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class CannedResponseRequest(Strict):
    short_code: ShortCode
    content: str = Field(min_length=1, max_length=4096)


class CannedResponsePatch(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [{"required": ["short_code"]},
                                                                           {"required": ["content"]}]})
    short_code: ShortCode = None
    content: str = Field(default=None, min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _some(self):
        if self.short_code is None and self.content is None:
            raise ValueError("give short_code, content or both")
        return self



class CannedReply(Strict):
    """A reply with a canned response's content (its placeholders filled in for the contact)."""

    canned: ShortCode
