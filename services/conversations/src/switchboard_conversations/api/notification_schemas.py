"""Request bodies of `/v1/notification-rules` (a rule: which ERP event, which template in which
language, its values read from the event, which sender) and of `POST /v1/notifications` (an ERP event,
a CloudEvents 1.0 document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StrictBool, model_validator

from switchboard_contracts.content import ParameterKey
from switchboard_contracts.numbers import whole
from switchboard_contracts.sender import Label

from .inbox_schemas import Strict
from .template_schemas import NoNulJson, NoNulObject  # noqa: F401 (NoNulJson: the name NoNulObject refers to)

Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", examples=["en_US"])]
Locale = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")]
Path = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^(data|id|source|type|time|subject)(\.[A-Za-z0-9_]+)*$",
                            examples=["data.order_id"])]
EventName = Annotated[str, Field(min_length=3, max_length=128, pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$",
                                 examples=["order.shipped"])]
# a dict's keys are checked against a pattern (its schema's `patternProperties`): a key that does not match
# is refused, so the schema says so too (without it, JSON Schema admits any other key)
KEYS_MATCH = {"additionalProperties": False}
Op = Literal["eq", "ne", "in", "not_in", "exists", "gt", "gte", "lt", "lte", "contains"]
Scalar = str | int | float | bool


class RuleTemplate(Strict):
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    languages: dict[Locale, Language] = Field(default_factory=dict, max_length=50, json_schema_extra=KEYS_MATCH,
                                              description="the event's `locale` → the template's language")
    fallback: Language


class PathCondition(Strict):
    """The value at `path` compared by `op` (default `eq`) with `value`."""

    path: Path
    op: Op = None
    value: Scalar | list[Scalar] = None


class AllCondition(Strict):
    """Every condition of `all` holds."""

    all: list[Condition] = Field(min_length=1, max_length=20)


class AnyCondition(Strict):
    """At least one condition of `any` holds."""

    any: list[Condition] = Field(min_length=1, max_length=20)


# three closed shapes, each with its own required key: a document matches one at most, so the schema
# needs no `oneOf` (whose exactly-one test schemathesis can only meet by drawing and discarding)
Condition = Annotated[PathCondition | AllCondition | AnyCondition, Field(
    description='`{"path", "op", "value"}`, or `{"all": [...]}` / `{"any": [...]}` of conditions')]
AllCondition.model_rebuild()
AnyCondition.model_rebuild()


class NotificationRuleRequest(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [  # exactly one of them is given
        {"required": ["sender_id"]}, {"required": ["sender_pool"]}]})
    event: EventName
    template: RuleTemplate
    parameters: dict[ParameterKey, Path] = Field(default_factory=dict, max_length=100, json_schema_extra=KEYS_MATCH,
                                                 description=(
        "the template's variables (`\"1\"`, `\"customer_name\"`, `\"header.1\"`, `\"button.0\"`) → where in the "
        "event their values are (`data.order_id`)"))
    sender_id: Annotated[str, Field(min_length=1, max_length=64)] = None
    sender_pool: Label = None
    condition: Condition = None
    stage: whole(ge=1, le=1000) = Field(default=None, description=(
        "how far along an order this event is (default: order.confirmed 1, shipped 2, delivered and cancelled 3); "
        "an event for an order already past it is skipped as out_of_order"))
    enabled: StrictBool = True

    @model_validator(mode="after")
    def _one_sender(self):
        if (self.sender_id is None) == (self.sender_pool is None):
            raise ValueError("name exactly one of sender_id and sender_pool")
        return self


class ErpEventBody(Strict):
    """An ERP event: a CloudEvents 1.0 document (structured mode); `type` ends in the `<entity>.<event>`
    the rules name (`order.shipped`, or e.g. `com.acme.erp.order.shipped`)."""

    model_config = ConfigDict(extra="allow")
    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=512)
    source: str = Field(min_length=1, max_length=1024)
    type: str = Field(min_length=3, max_length=512, pattern=r"(^|\.)[a-z0-9_]+\.[a-z0-9_]+$")
    time: AwareDatetime = None
    subject: str = Field(default=None, max_length=1024)
    datacontenttype: str = Field(default=None, max_length=128)
    data: NoNulObject = Field(default_factory=dict)
