"""Request bodies of the webhooks API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from switchboard_contracts.content import SPACE_OR_NUL

from ..domain import filters

Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=rf"^https?://[^{SPACE_OR_NUL}/?#]+(/[^{SPACE_OR_NUL}]*)?$",
                           description="http(s); refused (422) if it resolves to a loopback, private or "
                                       "link-local address, unless SWITCHBOARD_ALLOW_PRIVATE_URLS is set",
                           examples=["https://erp.example.com/hooks/switchboard"])]
FILTERS = ["*", *sorted(f"{e}.*" for e in filters.ENTITIES), *sorted(filters.TYPES)]
EventFilter = Annotated[str, Field(json_schema_extra={"enum": FILTERS}, examples=["message.*", "conversation.assigned"],
                                   description="`*`, `<entity>.*` or `<entity>.<event>` of a published type")]
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
    url: Url = None
    event_types: list[EventFilter] = Field(default=None, min_length=1, max_length=50)
    description: Description = None
    enabled: StrictBool = Field(default=None, description="true again after a disable: delivery goes on "
                                                          "from where it stopped")


class RecoverRequest(Strict):
    since: AwareDatetime = Field(description="re-send the events published from this time…")
    until: AwareDatetime | None = Field(default=None, description="…until this time (default: now)")
