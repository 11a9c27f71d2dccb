"""Request bodies of the webhooks API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from switchboard_contracts.content import SPACE_OR_NUL

Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=rf"^[^{SPACE_OR_NUL}]+$",
                           description="http(s); refused (422) if it resolves to a loopback, private or "
                                       "link-local address, unless SWITCHBOARD_ALLOW_PRIVATE_URLS is set",
                           examples=["https://erp.example.com/hooks/switchboard"])]
EventFilter = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^(\*|[a-z][a-z_]*\.(\*|[a-z][a-z_]*))$",
                                   examples=["message.*", "conversation.assigned", "*"])]
Description = Annotated[str, Field(max_length=500, pattern=r"^[^\x00]*$")]
AttemptStatus = Literal["succeeded", "failed"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndpointRequest(Strict):
    url: Url
    event_types: list[EventFilter] = Field(default=["*"], min_length=1, max_length=50,
                                           description="`*`, `<entity>.*` or `<entity>.<event>` (e.g. `message.*`)")
    description: Description = ""
    enabled: StrictBool = True


class EndpointChanges(Strict):
    """The fields given replace the endpoint's (at least one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    url: Url | None = None
    event_types: list[EventFilter] | None = Field(default=None, min_length=1, max_length=50)
    description: Description | None = None
    enabled: StrictBool | None = Field(default=None, description="true again after a disable: delivery goes on "
                                                                 "from where it stopped")


class RecoverRequest(Strict):
    since: AwareDatetime = Field(description="re-send the events published from this time…")
    until: AwareDatetime | None = Field(default=None, description="…until this time (default: now)")
