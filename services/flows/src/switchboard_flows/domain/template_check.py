"""Whether a flow may send the template its message names, and what it then sends — as the conversations
service decides for an API send (pure: the service looks the template up and hands it here). Through a Meta
sender the template must be known in the sender's WhatsApp Business Account and be APPROVED (or FLAGGED: Meta
still sends it until it pauses it), and the values must fill its variables exactly; the command then carries Meta's components and the text the customer reads
(`switchboard_contracts.template_send.prepare`). Through another provider, a template the organization knows
is checked the same way; one it does not know goes as given — unless it uses the shorthand `parameters`,
which only a known template's definition turns into Meta's components."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard_contracts.content import Template
from switchboard_contracts.template_send import Prepared, SendMismatch, prepare

# What may be sent: APPROVED, and FLAGGED (Meta's warning of low quality: it still sends until it is paused)
SENDABLE = ("APPROVED", "FLAGGED")
NOT_FOUND, NOT_APPROVED, PARAMETERS = "template_not_found", "template_not_approved", "template_parameters"


@dataclass(frozen=True)
class KnownTemplate:
    """A template as the service knows it from its events (`components` None: only a status report of it)."""

    waba_id: str
    status: str
    parameter_format: str | None = None
    components: list[dict[str, Any]] | None = None
    template_id: str | None = None


class TemplateRefused(ValueError):
    """The template may not be sent: `code` (template_not_found, template_not_approved, template_parameters),
    a sentence, and what a step's detail records beside them (the status; missing and extra variables)."""

    def __init__(self, code: str, message: str, detail: dict[str, Any] | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message
        self.detail: dict[str, Any] = {"code": code, **(detail or {})}


def check_template_send(send: Template, known: KnownTemplate | None, meta_account: str | None) -> Prepared | None:
    """The send prepared against the template's definition, or None to send it as given (another provider's
    template the organization does not know); TemplateRefused says why it may not be sent. `meta_account`:
    the business account of a Meta sender (None: another provider's sender, or one not known); `known`: the
    template in that account, else the organization's best of that name and language (None: not known)."""
    named = f"{send.name!r} ({send.language})"
    ids = {"template_id": known.template_id} if known is not None and known.template_id else {}
    if known is not None and known.status not in SENDABLE:
        raise TemplateRefused(NOT_APPROVED, f"the template {named} is {known.status}: only an APPROVED (or "
                              "FLAGGED) template may be sent", {"status": known.status, **ids})
    if known is None or known.components is None:
        if meta_account is None and send.parameters is None:
            return None
        where = f"the account {meta_account}" if meta_account else "the organization"
        raise TemplateRefused(NOT_FOUND, f"{where} has no template {named} (see /v1/templates)")
    try:
        return prepare(send, known.components, known.parameter_format or "POSITIONAL")
    except SendMismatch as exc:
        raise TemplateRefused(PARAMETERS, str(exc), {"missing": exc.missing, "extra": exc.extra, **ids}) from exc
    except ValueError as exc:  # a value Meta would refuse where it goes (a header text over 60 characters)
        raise TemplateRefused(PARAMETERS, f"template.parameters: {exc}", ids) from exc
