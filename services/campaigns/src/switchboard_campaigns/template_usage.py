"""Which template a campaign sends, and where: a campaign whose content is `type: template` sends it (by
name and language) in the business account of each of its Meta senders — its `sender_ids`, or the senders
of its label pool, as the sender directory knows them now. Reads of the templates projection and the
sender directory — the template's status and definition in those accounts; what follows from them is
`domain/template_status.py`'s (may it be sent) and `domain/template_definition.py`'s (do its parameters
fill its variables, and what the customer reads)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .domain.personalize import TemplateContent
from .domain.template_definition import SAMPLE, Definition, TemplateRefusal, check_all, shorthand_unknown
from .domain.template_status import Blocked, blocking
from .tables import SCHEMA

# the campaign's Meta senders (not removed), as `senders s`, for a campaign given by parameters…
META_SENDERS = """
    s.org_id = :org AND s.status <> 'removed' AND s.provider = 'meta-cloud' AND s.waba_id IS NOT NULL
    AND (s.sender_id = ANY(CAST(:ids AS text[]))
         OR (CAST(:label AS text) IS NOT NULL AND s.labels @> jsonb_build_array(CAST(:label AS text))))"""
STATUSES = f"""
    SELECT t.waba_id, t.status, t.parameter_format, t.components, t.template_id FROM {SCHEMA}.templates t
    WHERE t.org_id = :org AND t.name = :name AND t.language = :language
      AND t.waba_id IN (SELECT s.waba_id FROM {SCHEMA}.senders s WHERE {META_SENDERS})
    ORDER BY t.waba_id"""
# in a start's transaction: a report being recorded for the template waits for the start to commit (and then
# finds the campaign running), or the start waits for the report and sees it
STATUSES_SHARED = text(STATUSES + " FOR SHARE OF t")
STATUSES = text(STATUSES)
# … and for the campaigns of a `runs` row
USING = text(f"""
    SELECT r.campaign_id::text AS campaign_id, r.status, r.reason FROM {SCHEMA}.runs r
    WHERE r.org_id = :org AND r.status IN ('scheduled', 'running', 'paused')
      AND r.spec->'content'->>'type' = 'template'
      AND r.spec->'content'->'template'->>'name' = :name
      AND r.spec->'content'->'template'->>'language' = :language
      AND EXISTS (SELECT 1 FROM {SCHEMA}.senders s
                  WHERE s.org_id = r.org_id AND s.status <> 'removed' AND s.provider = 'meta-cloud'
                    AND s.waba_id = :waba
                    AND (r.spec->'senders'->'sender_ids' @> to_jsonb(s.sender_id)
                         OR s.labels @> jsonb_build_array(r.spec->'senders'->>'label')))
    ORDER BY r.campaign_id""")
ACCOUNTS = text(f"SELECT DISTINCT s.waba_id FROM {SCHEMA}.senders s WHERE {META_SENDERS} ORDER BY s.waba_id")
STATUS = text(f"""SELECT status FROM {SCHEMA}.templates
                  WHERE org_id = :org AND waba_id = :waba AND name = :name AND language = :language""")


@dataclass(frozen=True)
class TemplateKey:
    """One template of an organization: its account, name and language."""

    org_id: str
    waba_id: str
    name: str
    language: str

    def params(self) -> dict:
        return {"org": self.org_id, "waba": self.waba_id, "name": self.name, "language": self.language}


@dataclass(frozen=True)
class Using:
    campaign_id: str
    status: str
    reason: str | None


def template_of(content: dict) -> tuple[str, str] | None:
    """(name, language) of a campaign's template content; None for any other content."""
    template = content.get("template") if content.get("type") == "template" else None
    if not template or not template.get("name") or not template.get("language"):
        return None
    return template["name"], template["language"]


class TemplateNotApproved(TemplateRefusal):
    """Starting or resuming a campaign whose template may not be sent in its Meta senders' account (a 422
    `template_not_approved` with the status)."""

    def __init__(self, blocked: Blocked):
        super().__init__("template_not_approved", f"the template {blocked.name!r} ({blocked.language}) is "
                         f"{blocked.status} in the WhatsApp Business Account {blocked.waba_id}: only an APPROVED "
                         "(or FLAGGED) template is sent", {"status": blocked.status, "name": blocked.name,
                                                           "language": blocked.language, "waba_id": blocked.waba_id})
        self.blocked = blocked


class TemplateUsage:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def blocked(self, org_id: str, content: dict, senders: dict,
                      conn: AsyncConnection | None = None) -> Blocked | None:
        """Why the campaign may not send now: its template is known in one of its Meta senders' accounts
        and is not sendable there; None when it may (or when nothing is known: other providers, a
        template made before the projection, one Switchboard never heard of). Within `conn`'s
        transaction, the template's rows stay as read until it ends."""
        named = template_of(content)
        if named is None:
            return None
        rows = await self._rows(org_id, content, senders, conn, lock=conn is not None)
        return blocking([Blocked(r.status, r.waba_id, *named) for r in rows])

    async def definitions(self, org_id: str, content: dict, senders: dict,
                          conn: AsyncConnection | None = None) -> list[Definition]:
        """The campaign's template as it is defined in its Meta senders' accounts, where the projection knows
        it (by account); empty for any other content, provider or template. Read, not locked, in `conn`."""
        named = template_of(content)
        if named is None:
            return []
        return [Definition(r.waba_id, *named, r.parameter_format, r.components, r.template_id)
                for r in await self._rows(org_id, content, senders, conn, lock=False) if r.components is not None]

    async def check(self, org_id: str, content: dict, senders: dict) -> None:
        """A campaign being created or edited: its template's parameters (a sample for each placeholder)
        against the definition in each of its Meta senders' accounts that knows it — TemplateRefusal
        (`template_parameters`, listing the missing and extra variables) when they do not fill its
        variables. Unknown templates are not checked (nor, yet, the template's status: that is the start's)."""
        if definitions := await self.definitions(org_id, content, senders):
            check_all(TemplateContent.parse(content["template"]).sample(SAMPLE), definitions)

    async def refusal(self, org_id: str, content: dict, senders: dict, conn: AsyncConnection) -> TemplateRefusal | None:
        """Why a start (or resume) of the campaign is refused, in `conn`'s transaction: its template is not
        sendable in an account (TemplateNotApproved); its parameters do not fill a known definition's
        variables; it gives `parameters` the short way through Meta senders of accounts that do not know it."""
        named = template_of(content)
        if named is None:
            return None
        rows = await self._rows(org_id, content, senders, conn, lock=True)
        if blocked := blocking([Blocked(r.status, r.waba_id, *named) for r in rows]):
            return TemplateNotApproved(blocked)
        definitions = [Definition(r.waba_id, *named, r.parameter_format, r.components, r.template_id)
                       for r in rows if r.components is not None]
        try:
            check_all(TemplateContent.parse(content["template"]).sample(SAMPLE), definitions)
        except TemplateRefusal as refused:
            return refused
        if not definitions and content["template"].get("parameters") is not None:
            accounts = [r.waba_id for r in await conn.execute(ACCOUNTS, _params(org_id, senders))]
            if accounts:
                return shorthand_unknown(*named, accounts)
        return None

    async def _rows(self, org_id: str, content: dict, senders: dict, conn: AsyncConnection | None,
                    lock: bool) -> list:
        name, language = template_of(content)
        params = {**_params(org_id, senders), "name": name, "language": language}
        if conn is not None:
            return list(await conn.execute(STATUSES_SHARED if lock else STATUSES, params))
        async with self.engine.connect() as own:
            return list(await own.execute(STATUSES, params))

    async def campaigns_using(self, key: TemplateKey) -> list[Using]:
        """The active campaigns (scheduled, running, paused) that send the template through a Meta sender of its account."""
        async with self.engine.connect() as conn:
            return [Using(r.campaign_id, r.status, r.reason) for r in await conn.execute(USING, key.params())]

    async def status(self, key: TemplateKey) -> str | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(STATUS, key.params())).scalar_one_or_none()


def _params(org_id: str, senders: dict) -> dict:
    return {"org": org_id, "ids": senders.get("sender_ids") or [], "label": senders.get("label")}
