"""Message templates of the organizations' WhatsApp Business Accounts: created here (checked as Meta
checks them), submitted to Meta, edited, deleted; their status, quality and category as Meta reports
them (`apply`, from webhook-ingest's events, and `template_sync.py`). Each change holds the read row's
lock while it saves the aggregate and writes the row, so a read shows it at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.eventstore import call
from switchboard_runtime.http.errors import ApiError
from switchboard_runtime.http.pagination import keyset_page
from switchboard_runtime.relay import Relay

from . import template_table as table
from .application import ConversationsApp
from .directory import Directory
from .domain.errors import InvalidChange
from .domain.template import MessageTemplate, NotNow, ReadOnly
from .domain.template_rules import check_definition
from .meta_templates import MetaRefused, MetaTemplates

FILTERS = {"status": "status = :status", "name": "name = :name", "language": "language = :language",
           "category": "category = :category", "sender_id": "sender_id = :sender_id", "waba_id": "waba_id = :waba_id"}


def invalid(problems) -> ApiError:
    fields = [{"field": f, "message": m} for f, m in problems.items]
    return ApiError(422, "validation_error", "; ".join(f"{f}: {m}" for f, m in problems.items[:5]),
                    {"field": fields[0]["field"], "fields": fields})


def now() -> datetime:
    return datetime.now(UTC)


def meta_body(t: MessageTemplate) -> dict:
    return {"name": t.name, "language": t.language, "category": t.category, "parameter_format": t.parameter_format,
            "components": t.components}


class Templates:
    def __init__(self, engine: AsyncEngine, app: ConversationsApp, relay: Relay | None, directory: Directory,
                 meta: MetaTemplates):
        self.engine, self.app, self.relay, self.directory, self.meta = engine, app, relay, directory, meta

    # --- reads --------------------------------------------------------------------------------

    async def get(self, org_id: str, template_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(text(f"SELECT * FROM {table.T} WHERE id = :id AND org_id = :org"),
                                    {"id": template_id, "org": org_id})).first()
        return table.shape(r) if r else None

    async def page(self, org_id: str, cursor: str | None, limit: int, **filters: str | None) -> dict:
        given = {k: v for k, v in filters.items() if v is not None}
        where = "".join(f" AND {FILTERS[k]}" for k in given)
        return await keyset_page(self.engine, f"SELECT * FROM {table.T} WHERE org_id = :org{where}", "ASC",
                                 cursor, limit, "created_at", table.shape, org=org_id, **given)

    async def by_name(self, org_id: str, waba_id: str, name: str, language: str):
        async with self.engine.connect() as conn:
            return (await conn.execute(table.BY_NAME, {"org": org_id, "waba": waba_id, "name": name,
                                                       "language": language})).first()

    # --- our changes --------------------------------------------------------------------------

    async def create(self, org_id: str, actor: dict, sender_id: str, name: str, language: str, category: str,
                     parameter_format: str, components: list[dict]) -> dict:
        sender = await self.directory.meta_sender(org_id, sender_id)
        if sender is None:
            raise ApiError(404, "not_found", "sender not found: a template names a Meta sender of its account",
                           {"field": "sender_id"})
        if not sender.waba_id:
            raise ApiError(409, "conflict", "the sender has no waba_id (its WhatsApp Business Account): register "
                                            "it with one", {"field": "sender_id"})
        if problems := check_definition(name, language, category, parameter_format, components):
            raise invalid(problems)
        t = MessageTemplate(org_id=org_id, sender_id=sender_id, waba_id=sender.waba_id, name=name, language=language,
                            category=category, parameter_format=parameter_format, components=components,
                            status="DRAFT", read_only=False, meta_template_id=None, actor=actor, at=now())
        try:
            async with self.engine.begin() as conn:
                await table.write(conn, t)
                await call(self.app.save, t)
        except IntegrityError as exc:
            raise ApiError(409, "conflict", f"the account already has a template {name!r} in {language}",
                           {"field": "name"}) from exc
        self._published()
        return await self.get(org_id, str(t.id))

    async def edit(self, org_id: str, template_id: str, actor: dict, category: str | None,
                   components: list[dict] | None) -> dict | None:
        async def decide(t: MessageTemplate) -> None:
            new_category = category or t.category
            new_components = components if components is not None else t.components
            if problems := check_definition(t.name, t.language, new_category, t.parameter_format, new_components):
                raise invalid(problems)
            was_submitted = t.status != "DRAFT"
            if t.edit(category, components, actor, now()) and was_submitted and t.meta_template_id:
                body = {"components": new_components, **({"category": category} if category else {})}
                await self.meta.edit(org_id, t.sender_id, t.meta_template_id, body)

        return await self._change(org_id, template_id, decide)

    async def submit(self, org_id: str, template_id: str, actor: dict) -> dict | None:
        async def decide(t: MessageTemplate) -> None:
            t.check_submit()
            answer = await self.meta.create(org_id, t.sender_id, meta_body(t))
            t.submitted(str(answer.get("id")), str(answer.get("status") or "PENDING"),
                        str(answer.get("category") or t.category), actor, now())

        return await self._change(org_id, template_id, decide)

    async def delete(self, org_id: str, template_id: str, actor: dict) -> bool:
        async def decide(t: MessageTemplate) -> None:
            t.delete(actor, now())
            if t.meta_template_id:
                await self.meta.delete(org_id, t.sender_id, t.name, t.meta_template_id)

        return await self._change(org_id, template_id, decide) is not None

    # --- what Meta reports --------------------------------------------------------------------

    async def apply(self, org_id: str, waba_id: str, meta_template_id: str, name: str | None, language: str | None,
                    change: Callable[[MessageTemplate], None]) -> bool | None:
        """Apply one of Meta's reports to the template it names: whether it changed anything; None when
        we know no such template."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                f"SELECT id FROM {table.T} WHERE org_id = :org AND waba_id = :waba AND (meta_template_id = :mid "
                "OR (meta_template_id IS NULL AND name = :name AND language = :language)) "
                "ORDER BY meta_template_id IS NULL LIMIT 1"),
                {"org": org_id, "waba": waba_id, "mid": meta_template_id, "name": name, "language": language})).first()
        if row is None:
            return None
        changed = False

        async def decide(t: MessageTemplate) -> None:
            nonlocal changed
            before = t.version
            change(t)
            changed = t.version != before

        await self._change(org_id, row.id, decide)
        return changed

    async def imported(self, t: MessageTemplate) -> bool:
        """A template a sync found at Meta that we did not know; False when it exists already."""
        try:
            async with self.engine.begin() as conn:
                await table.write(conn, t)
                await call(self.app.save, t)
        except IntegrityError:
            return False
        self._published()
        return True

    # --- the one way a template changes ---------------------------------------------------------

    async def _change(self, org_id: str, template_id: str, decide) -> dict | None:
        try:
            async with self.engine.begin() as conn:
                if (await conn.execute(table.LOCK, {"id": template_id, "org": org_id})).first() is None:
                    return None
                try:
                    t = await call(self.app.repository.get, UUID(template_id))
                except AggregateNotFoundError:
                    return None
                await decide(t)
                events = t.collect_events()
                if events:
                    await call(self.app.save, *events)
                    await table.write(conn, t)
        except ReadOnly as exc:
            raise ApiError(409, "read_only", str(exc)) from exc
        except NotNow as exc:
            raise ApiError(409, "conflict", str(exc)) from exc
        except InvalidChange as exc:
            raise ApiError(404, "not_found", "template not found") if exc.field == "template" else \
                ApiError(422, "validation_error", str(exc), {"field": exc.field}) from exc
        except MetaRefused as exc:
            raise exc.api_error() from exc
        if events:
            self._published()
        return await self.get(org_id, template_id) if not t.deleted else {"id": template_id, "deleted": True}

    def _published(self) -> None:
        if self.relay is not None:
            self.relay.wake()


def adopting(meta_id: str, decide: Callable[[MessageTemplate], None]) -> Callable[[MessageTemplate], None]:
    """A report (or a sync) about a template of ours that Meta has though we never learnt its id (the
    answer to our submit was lost): it takes the id, as submitted, then the report applies."""
    def adopt(t: MessageTemplate) -> None:
        if t.meta_template_id is None and t.status == "DRAFT":
            t.submitted(meta_id, "PENDING", t.category, {"type": "system", "id": "meta_report"}, now())
        decide(t)
    return adopt
