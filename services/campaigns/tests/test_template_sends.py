"""A campaign's template messages carry what the customer reads, and its template's variables are checked,
against real NATS and PostgreSQL: the campaigns service runs in-process, the template events come as the
conversations service publishes them (`template.created|edited`, with Meta's components), the senders as
the session-pool announces them, and the test takes the campaign's send commands off the command stream as
the session-pool would (and reports each `sent`)."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard_contracts import template
from switchboard_contracts.ids import new_id

from .template_helpers import WABA, Api, FakePool, Templates, add_sender, as_, eventually, running_campaigns

SHIPPED = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Ana", "A-1"]]}},
    {"type": "FOOTER", "text": "Acme Shop"},
    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://acme.example/t/{{1}}",
                                     "example": ["https://acme.example/t/A-1"]}]},
]
BY_SLOT = {"header.1": "{{code}}", "1": "{{name|there}}", "2": "{{code}}", "button.0": "{{track|}}"}


def compact(value):
    """A command's JSON without its null fields (the contract's model dumps every optional one)."""
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def shipped(parameters=None, components=None, name: str = "order_shipped") -> dict:
    out: dict = {"name": name, "language": "en_US"}
    if parameters is not None:
        out["parameters"] = parameters
    if components is not None:
        out["components"] = components
    return out


def personalized_components(name: str = "made_before") -> dict:
    return shipped(name=name, components=[{"type": "body", "parameters": [
        {"type": "text", "text": "{{name|there}}"}, {"type": "text", "text": "{{code}}"}]}])


async def create(api: Api, senders: dict, content: dict, contacts: list[dict] | None = None):
    r = await api.http.post("/v1/campaigns", headers=as_(api.org), json={"name": "c", **senders, "template": content})
    if r.status_code != 201 or contacts is None:
        return r
    cid = r.json()["id"]
    added = await api.http.post(f"/v1/campaigns/{cid}/contacts", headers=as_(api.org), json={"contacts": contacts})
    assert added.status_code == 200 and added.json()["accepted"] == len(contacts), added.text
    return r


async def sent_all(api: Api, pool: FakePool, cid: str) -> dict:
    async def step() -> dict:
        await pool.take(wait=0.1)
        return await api.get(cid)
    return await eventually(step, lambda c: c["status"] == "completed", timeout=30)


async def test_a_template_campaign_through_a_meta_sender_sends_metas_components_and_what_the_customer_reads(
        nats_url, database_url):
    org, meta = new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await add_sender(js, org, meta)
        await templates.approved("order_shipped", components=SHIPPED)
        pool = await FakePool(js, org).start()
        contacts = [{"phone": "+4915100000013", "name": "Ana", "variables": {"code": "A-1", "track": "a1"}},
                    {"phone": "+4915100000023", "variables": {"code": "B-2", "track": "b2"}},
                    {"phone": "+4915100000033", "name": "Eve", "variables": {"code": "C-3", "track": ""}}]
        r = await create(api, {"sender_ids": [meta]}, shipped(BY_SLOT), contacts)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert (await api.act(cid, "start")).json()["status"] == "running"

        done = await sent_all(api, pool, cid)
        by_phone = {c["to"]: c for c in pool.commands}
        assert sorted(by_phone) == ["+4915100000013", "+4915100000023"]
        ana, nameless = by_phone["+4915100000013"], by_phone["+4915100000023"]
        assert ana["rendered"] == ("Order A-1\n\nHi Ana, your order A-1 is on its way.\n\nAcme Shop\n\n"
                                   "[Track: https://acme.example/t/a1]")
        assert nameless["rendered"].startswith("Order B-2\n\nHi there, your order B-2 is on its way.")
        assert ana["type"] == "template" and ana["template"]["parameters"] is None
        assert compact(ana["template"]["components"]) == [
            {"type": "header", "parameters": [{"type": "text", "text": "A-1"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1"}]},
            {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "a1"}]}]
        # a contact whose value is empty (`{{track|}}`): its message cannot be built, it fails alone
        assert done["stats"]["sent"] == 2 and done["stats"]["failed_by_code"] == {"invalid_content": 1}
        failed = (await http.get(f"/v1/campaigns/{cid}/contacts?status=failed", headers=as_(org))).json()["items"]
        assert [c["phone"] for c in failed] == ["+4915100000033"]


async def test_template_parameters_that_do_not_fill_its_variables_are_a_422_listing_missing_and_extra(
        nats_url, database_url):
    org, meta = new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await add_sender(js, org, meta)
        await templates.approved("order_shipped", components=SHIPPED)

        r = await create(api, {"sender_ids": [meta]}, shipped(["{{name}}", "{{code}}", "{{city}}"]))
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "template_parameters"
        assert {k: error["details"][k] for k in ("missing", "extra", "waba_id")} == {
            "missing": ["header.1", "button.0"], "extra": ["3"], "waba_id": WABA}
        assert error["details"]["template_id"] == templates.ids[("order_shipped", "en_US")]
        assert (await http.get("/v1/campaigns", headers=as_(org))).json()["items"] == []  # nothing created

        # Meta's components the long way: one body value short
        short = await create(api, {"sender_ids": [meta]}, shipped(components=[
            {"type": "header", "parameters": [{"type": "text", "text": "{{code}}"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "{{name|there}}"}]},
            {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "{{code}}"}]}]))
        assert short.status_code == 422 and short.json()["error"]["details"]["missing"] == ["2"]

        # an edit of a draft is checked the same way, and changes nothing when refused
        draft = (await create(api, {"sender_ids": [meta]}, shipped(BY_SLOT))).json()["id"]
        edit = await http.patch(f"/v1/campaigns/{draft}", headers=as_(org),
                                json={"template": shipped({**BY_SLOT, "button.1": "{{code}}"})})
        assert edit.status_code == 422 and edit.json()["error"]["details"]["extra"] == ["button.1"]
        assert (await api.get(draft))["content"]["template"]["parameters"] == BY_SLOT

        # a campaign made before its template was known is checked when it starts
        early = await create(api, {"sender_ids": [meta]}, shipped(["{{name}}"], name="arrives_later"),
                             [{"phone": "+4915100000013", "name": "Ana"}])
        assert early.status_code == 201, early.text
        await templates.approved("arrives_later", components=SHIPPED)
        refused = await api.act(early.json()["id"], "start")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "template_parameters"
        assert refused.json()["error"]["details"]["missing"] == ["header.1", "2", "button.0"]
        assert (await api.get(early.json()["id"]))["status"] == "draft"


async def test_a_template_the_meta_senders_account_does_not_know_goes_as_given(nats_url, database_url):
    org, meta, simulator = new_id(), new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await add_sender(js, org, meta)
        await add_sender(js, org, simulator, provider="simulator")
        await templates.approved("order_shipped", components=SHIPPED)
        pool = await FakePool(js, org).start()
        contact = [{"phone": "+4915100000013", "name": "Ana", "variables": {"code": "A-1"}}]

        unknown = (await create(api, {"sender_ids": [meta]}, personalized_components(), contact)).json()["id"]
        # through a simulator the account's template is not looked up: its values go as given
        simulated = (await create(api, {"sender_ids": [simulator]}, shipped(["{{name}}", "x"]), contact)).json()["id"]
        for cid in (unknown, simulated):
            assert (await api.act(cid, "start")).json()["status"] == "running"
            await sent_all(api, pool, cid)
        made_before, through_simulator = pool.commands
        assert made_before["rendered"] is None and through_simulator["rendered"] is None
        assert compact(made_before["template"]) == personalized_components() | {"components": [{
            "type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1"}]}]}
        assert through_simulator["template"]["parameters"] == ["Ana", "x"]

        # only a known definition turns the short `parameters` into Meta's components: not through a Meta sender
        shorthand = (await create(api, {"sender_ids": [meta]}, shipped(["{{name}}"], name="made_before"),
                                  contact)).json()["id"]
        refused = await api.act(shorthand, "start")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "template_not_found"
        assert refused.json()["error"]["details"]["waba_id"] == WABA


async def test_a_template_edited_while_its_campaign_runs_fails_the_contacts_it_no_longer_fits(nats_url, database_url):
    org, meta = new_id(), new_id()
    async with running_campaigns(nats_url, database_url) as (http, js):
        api, templates = Api(http, org), Templates(js, org)
        await add_sender(js, org, meta)
        await templates.approved("promo")  # "Hi {{1}}"
        pool = await FakePool(js, org).start()
        cid = await api.campaign("spring", {"sender_ids": [meta]}, contacts=30)  # body: {{name|there}}
        assert (await api.act(cid, "start")).json()["status"] == "running"
        await eventually(lambda: api.get(cid), lambda c: c["stats"]["queued"] == 20)  # a minute of its quota

        await templates.edited("promo", [{"type": "BODY", "text": "Hi {{1}}, use {{2}}"}])  # under review: paused
        assert (await api.get(cid))["status"] == "paused"
        assert await pool.take() == 20  # those queued before go (held by the session-pool, in truth)
        assert pool.commands[0]["rendered"] == "Hi Ana0"
        # a late copy of the first definition (older by its time) changes neither the definition nor the status
        await templates.defined(template.CREATED, "promo", "en_US", "APPROVED", None, "POSITIONAL", version=1,
                                at=datetime(2026, 1, 1, tzinfo=UTC))
        assert (await api.get(cid))["status"] == "paused"
        await templates.meta_reports("promo", "APPROVED")
        assert (await api.get(cid))["status"] == "running"

        done = await sent_all(api, pool, cid)
        assert pool.taken == 20  # nothing more went out: the rest no longer fill the template's variables
        assert done["stats"]["sent"] == 20
        assert done["stats"]["failed_by_code"] == {"template_parameters": 10}
        failed = (await http.get(f"/v1/campaigns/{cid}/contacts?status=failed&limit=1", headers=as_(org))).json()
        assert "missing 2" in failed["items"][0]["error_title"]
