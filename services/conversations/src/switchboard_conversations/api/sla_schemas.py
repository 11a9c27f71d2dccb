"""The body of an SLA policy (`POST /v1/sla-policies`, `PUT /v1/sla-policies/{id}`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, StrictBool, field_validator, model_validator

from switchboard_contracts.numbers import whole

from .inbox_schemas import Strict, Tag

Seconds = whole(ge=1, le=365 * 86_400)
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", examples=["09:00"])]


class Span(Strict):
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _ordered(self):
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError("end must be after start")
        return self


class BusinessHoursBody(Strict):
    """Weekly hours in a time zone; a day left out has none. Only business time counts."""

    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"],
                           json_schema_extra={"format": "timezone"})
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[Span]] = Field(min_length=1)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", value):
                raise ValueError
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)") from exc
        return value

    @model_validator(mode="after")
    def _some_time(self):
        if not any(self.hours.values()):
            raise ValueError("hours: give at least one span")
        for day, spans in self.hours.items():
            ordered = sorted(spans, key=lambda s: _minutes(s.start))
            if any(_minutes(a.end) > _minutes(b.start) for a, b in zip(ordered, ordered[1:])):
                raise ValueError(f"hours.{day}: spans overlap")
        return self


class AppliesTo(Strict):
    """Exactly one: `{"default": true}`, `{"priority": "high"}` or `{"tag": "vip"}`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": ["default"]}, {"required": ["priority"]}, {"required": ["tag"]}]})
    default: Literal[True] = None
    priority: Literal["urgent", "high", "medium", "low", "none"] = None
    tag: Tag = None

    @model_validator(mode="after")
    def _one(self):
        if sum(v is not None for v in (self.default, self.priority, self.tag)) != 1:
            raise ValueError("give exactly one of default, priority or tag")
        return self


class Escalation(Strict):
    """What a breach does: raise the priority one level (none → low → medium → high → urgent) and/or
    give the conversation to a team."""

    raise_priority: StrictBool = False
    team_id: Annotated[str, Field(min_length=1, max_length=64)] = None


class SlaPolicyRequest(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["first_response_seconds"]}, {"required": ["next_response_seconds"]},
        {"required": ["resolution_seconds"]}]})
    name: str = Field(min_length=1, max_length=200)
    first_response_seconds: Seconds = None
    next_response_seconds: Seconds = None
    resolution_seconds: Seconds = None
    business_hours: BusinessHoursBody = None
    warning_before_seconds: Seconds = None
    applies_to: AppliesTo = Field(default_factory=lambda: AppliesTo(default=True))
    escalation: Escalation = Field(default_factory=Escalation)

    @model_validator(mode="after")
    def _a_target(self):
        if not (self.first_response_seconds or self.next_response_seconds or self.resolution_seconds):
            raise ValueError("give at least one of first_response_seconds, next_response_seconds, resolution_seconds")
        return self


def _minutes(clock: str) -> int:
    h, m = clock.split(":")
    return int(h) * 60 + int(m)

