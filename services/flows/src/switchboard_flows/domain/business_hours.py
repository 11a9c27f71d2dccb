"""Business hours: a time zone and weekly opening hours (`{"mon": [["09:00", "17:00"]], …}`, a day left
out is closed; "24:00" ends a day), and whether an instant falls inside them. An auto-reply with
`mode: "outside"` answers only when closed ("we are closed"); `"inside"` only when open."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
Interval = tuple[str, str]
DAY_SCHEMA = {"type": "array", "maxItems": 10, "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {
    "type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"}}}


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class BusinessHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"],
                          json_schema_extra={"format": "timezone"})  # an IANA time zone name
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[Interval]] = Field(
        description='Opening hours per weekday, e.g. {"mon": [["09:00", "17:00"]]}; a day left out is closed',
        json_schema_extra={"additionalProperties": DAY_SCHEMA})
    mode: Literal["outside", "inside"] = "outside"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from exc
        return value

    @model_validator(mode="after")
    def _intervals(self) -> BusinessHours:
        for day, intervals in self.hours.items():
            if len(intervals) > 10:
                raise ValueError(f"hours.{day}: at most 10 intervals")
            for start, end in intervals:
                for clock in (start, end):
                    if not CLOCK.match(clock):
                        raise ValueError(f"hours.{day}: {clock!r} is not a time of day HH:MM")
                if _minutes(start) >= _minutes(end):
                    raise ValueError(f"hours.{day}: {start}–{end} ends before it starts")
        return self

    def open_at(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        now = local.hour * 60 + local.minute
        return any(_minutes(start) <= now < _minutes(end) for start, end in self.hours.get(DAYS[local.weekday()], ()))

    def answers_at(self, at: datetime) -> bool:
        """Whether an auto-reply with these hours answers at `at`."""
        return self.open_at(at) == (self.mode == "inside")



