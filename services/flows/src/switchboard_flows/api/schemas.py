"""Request bodies of the flows API. A flow definition is checked by the domain (every problem at
once, by node), so its model here is the document's description of the shape, kept open: a node's
settings sit beside its `id` and `type`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from switchboard_runtime.http.paths import UUID_PATTERN, ResourceId  # noqa: F401 (shared by the routes)

UuidCursor = Annotated[str | None, Query(pattern=UUID_PATTERN, description="`next_cursor` of the previous page")]


class NodeBody(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})
    id: str = Field(min_length=1, max_length=100)
    type: Literal["start", "message", "condition", "delay", "wait_for_reply", "http", "email", "set_variable",
                  "handoff", "end"] = Field(description="the node's settings sit beside id and type")


class EdgeBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    from_: str = Field(alias="from", min_length=1, max_length=100)
    to: str = Field(min_length=1, max_length=100)
    exit: str | None = Field(default=None, max_length=100, description="omitted: the node's one exit")


class TriggerBody(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})
    type: Literal["keyword", "any_message", "event", "api"] = Field(
        description="keyword (keywords, match), any_message, event (event_type, filter) or api")


class FlowDefinitionBody(BaseModel):
    """A flow: its trigger, its nodes and the edges between them (as a visual editor stores them)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})
    name: str = Field(min_length=1, max_length=200)
    trigger: TriggerBody
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000, description="higher starts first")
    nodes: list[NodeBody] = Field(min_length=1, description="at most 2,000 (a 422 beyond)")
    edges: list[EdgeBody] = Field(description="at most 20,000 (a 422 beyond)")


class StartExecution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=32, json_schema_extra={"format": "phone"})
    sender_id: str = Field(min_length=1, max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict, description="`{{flow.data.*}}` in the flow")
