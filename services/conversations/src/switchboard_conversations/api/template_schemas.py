"""Request bodies of `/v1/templates`. A template's `components` are Meta's component objects (`HEADER`,
`BODY`, `FOOTER`, `BUTTONS`, with their `example`s), checked as Meta checks them when the template is
created or edited (a 422 names the field, e.g. `components[1].example.body_text`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

Id = Annotated[str, Field(min_length=1, max_length=64)]
# Any JSON whose texts (keys too) hold no NUL, which PostgreSQL cannot store and every service refuses:
# the document says so at every depth.
NoNulText = Annotated[str, Field(pattern=r"^[^\x00]*$")]
NoNulObject = Annotated[dict[NoNulText, "NoNulJson"], Field(json_schema_extra={"additionalProperties": False})]
NoNulJson = TypeAliasType("NoNulJson", NoNulText | int | float | bool | None | list["NoNulJson"] | NoNulObject)
Components = Annotated[list[NoNulObject], Field(min_length=1, max_length=4, description=(
    "Meta's components: `{\"type\": \"BODY\", \"text\": \"Hi {{1}}\", \"example\": {\"body_text\": [[\"Ana\"]]}}`, "
    "`HEADER` (`format` TEXT|IMAGE|VIDEO|DOCUMENT|LOCATION), `FOOTER`, `BUTTONS` (QUICK_REPLY, URL, PHONE_NUMBER, "
    "COPY_CODE, OTP)"))]
Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateRequest(Strict):
    sender_id: Id = Field(description="a Meta sender of the WhatsApp Business Account the template belongs to")
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(min_length=2, max_length=8, pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", examples=["en_US"])
    category: Category
    parameter_format: Literal["POSITIONAL", "NAMED"] = "POSITIONAL"
    components: Components


class TemplatePatch(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [{"required": ["category"]},
                                                                           {"required": ["components"]}]})
    category: Category = None
    components: Components = None


class SyncRequest(Strict):
    sender_id: Id = Field(default=None, description="sync this sender's account only (default: every account)")
