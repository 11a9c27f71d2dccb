"""A campaign's template against the template's definition in a WhatsApp Business Account (pure; Meta's
components as the `template.*` events carry them, kept by `templates_projection.py`). Once for the campaign
— its parameters with every placeholder standing for a sample value — `check` says whether they fill the
template's variables exactly; per contact, `prepare` turns the personalized template into what the command
carries: Meta's components (the shorthand `parameters` expanded) and the text the customer reads. The work
is `switchboard_contracts.template_send`'s, as for every service that sends templates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from switchboard_contracts.content import Template
from switchboard_contracts.template_send import Prepared, SendMismatch, prepare

SAMPLE = "x"  # what a placeholder stands for in the campaign's check: a short value, valid wherever one goes


class TemplateRefusal(ValueError):
    """The campaign may not send its template as it is: `code` (the API's 422 error code), a sentence and
    the error's `details`."""

    def __init__(self, code: str, message: str, details: dict[str, Any]):
        super().__init__(message)
        self.code, self._details = code, details

    def details(self) -> dict[str, Any]:
        return self._details


@dataclass(frozen=True)
class Definition:
    """A template's definition in one account: `parameter_format` (POSITIONAL, NAMED) and Meta's components."""

    waba_id: str
    name: str
    language: str
    parameter_format: str
    components: list[dict[str, Any]]
    template_id: str | None = None

    def prepare(self, template: Mapping[str, Any] | Template) -> Prepared:
        """One contact's template (personalized) as Meta wants it, and its text. SendMismatch when its values
        do not fill the variables; ValueError (pydantic's too) for a value Meta would refuse where it goes."""
        send = template if isinstance(template, Template) else Template.model_validate(template)
        return prepare(send, self.components, self.parameter_format)

    def check(self, sample: Mapping[str, Any]) -> None:
        """The campaign's template, its placeholders filled with a sample value (`TemplateContent.sample`),
        against this definition: TemplateRefusal `template_parameters` listing the missing and extra
        variables, or `validation_error` for a value that cannot go where it is (a header over 60 characters)."""
        ids = {"waba_id": self.waba_id, **({"template_id": self.template_id} if self.template_id else {})}
        try:
            self.prepare(sample)
        except SendMismatch as exc:
            raise TemplateRefusal("template_parameters", f"the template {self.name!r} ({self.language}) of the "
                                  f"WhatsApp Business Account {self.waba_id}: {exc}", {
                                      "field": "template.parameters", "missing": exc.missing, "extra": exc.extra,
                                      **ids}) from exc
        except ValueError as exc:
            raise TemplateRefusal("validation_error", f"template.parameters: {exc}",
                                  {"field": "template.parameters", **ids}) from exc


def check_all(sample: Mapping[str, Any], definitions: Iterable[Definition]) -> None:
    """Against every account the campaign's Meta senders belong to whose definition is known."""
    for definition in definitions:
        definition.check(sample)


def shorthand_unknown(name: str, language: str, waba_ids: list[str]) -> TemplateRefusal:
    """A campaign whose template gives its values as `parameters`, through Meta senders of accounts none of
    which has told us the template's definition: only the definition turns them into Meta's components."""
    return TemplateRefusal("template_not_found", f"the template {name!r} ({language}) is not known in the "
                           f"WhatsApp Business Account {', '.join(waba_ids)}: its `parameters` need the "
                           "template's definition (see /v1/templates), or give Meta's `components`",
                           {"field": "template.name", "name": name, "language": language,
                            "waba_id": waba_ids[0]})
