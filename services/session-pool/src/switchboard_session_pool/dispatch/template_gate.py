"""The template gate: a `template` message through a Meta Cloud API sender whose account (its
`config.waba_id`) has the template held waits while Meta has it PAUSED (not sent, not failed, no quota
taken; its time-to-live runs on) and fails as `template_disabled` once it is DISABLED. A pool message
skips the senders whose account holds its template (pool_choice.py); it fails only when every sender of
its pool that could send it has the template DISABLED, and waits while any is only PAUSED."""

from __future__ import annotations

from switchboard_contracts.message import StatusError

from ..domain.outbound import OutboundMessage
from ..domain.sender import Sender
from ..domain.template_hold import DISABLED, PAUSED
from ..stores.template_holds import TemplateHolds
from .pools import Pools

TEMPLATE_DISABLED = StatusError(
    code="template_disabled", title="Template disabled",
    detail="Meta disabled this message template in the sender's WhatsApp Business Account.")
HELD_RECHECK_SECONDS = 1.0  # a held message looks again this often (and at once when a hold changes)


class TemplateGate:
    def __init__(self, holds: TemplateHolds | None, senders: dict[str, Sender], pools: Pools):
        self.holds, self.senders, self.pools = holds, senders, pools

    def status(self, m: OutboundMessage, sender_id: str) -> str | None:
        """"PAUSED", "DISABLED" or None: the hold on the message's template in the sender's account."""
        if self.holds is None or not self.holds.holds or m.type != "template" or not m.template:
            return None
        sender = self.senders.get(sender_id)
        if sender is None or sender.provider != "meta-cloud":
            return None
        waba_id = sender.config.get("waba_id")
        name, language = m.template.get("name"), m.template.get("language")
        if not waba_id or not name or not language:
            return None
        return self.holds.of(m.org_id, waba_id, name, language)

    def blocks(self, m: OutboundMessage, sender_id: str) -> bool:
        """Whether the sender may not send the message now (its template held in the sender's account)."""
        return self.status(m, sender_id) is not None

    def paused(self, m: OutboundMessage) -> bool:
        """A single-sender message whose template is held: it waits (a DISABLED one then ends)."""
        return m.message_id not in self.pools.of and self.status(m, m.sender_id) is not None

    def failure(self, m: OutboundMessage) -> StatusError | None:
        """`template_disabled` when the message can never go: its sender's account has the template
        DISABLED, or (a pool message) every sender of its pool that could send it has."""
        if self.holds is None or not self.holds.holds or m.type != "template":
            return None
        request = self.pools.of.get(m.message_id)
        if request is None:
            return TEMPLATE_DISABLED if self.status(m, m.sender_id) == DISABLED else None
        viable = [s for s in self.pools.candidates(request)
                  if (sender := self.senders.get(s)) is not None and sender.org_id == m.org_id and not sender.removed]
        if viable and all(self.status(m, s) == DISABLED for s in viable):
            return TEMPLATE_DISABLED
        return None

    def holds_any(self, m: OutboundMessage, candidates) -> bool:
        """Whether the template is held in the account of any of a pool message's candidates."""
        return any(self.status(m, s) in (PAUSED, DISABLED) for s in candidates)
