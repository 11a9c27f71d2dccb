"""Flows send templates by name, on real NATS and PostgreSQL: the service learns the organization's
templates and its Meta senders' accounts from their events (`flows__templates`); a message node (and an
auto-reply) naming an APPROVED template with the shorthand `parameters` — placeholders rendered first —
publishes a send command with Meta's components and the text the customer reads; a template not APPROVED,
unknown in the Meta sender's account (though another account has it), or whose variables do not match
takes the node's `failed` exit with the reason, and sends nothing."""

from __future__ import annotations

from switchboard_contracts.content import Template
from switchboard_contracts.ids import new_id

from .flow_helpers import Sends, active_flow, as_org, events, inbound, running_flows, status
from .template_helpers import ORDER_SHIPPED, T0, Templates, registered

META = "0b9d4c1e-6f57-4a3e-9c62-1d2e3f4a5b6c"
SHORTHAND = {"header.1": "{{vars.order}}", "1": "{{contact.name}}", "2": "{{vars.order}}", "button.0": "{{vars.order}}"}


def template_flow(keyword: str, template: dict) -> dict:
    """`keyword` → set vars.order → send `template` → end; a failed send says sorry in text first."""
    return {"name": f"{keyword} flow", "trigger": {"type": "keyword", "keywords": [keyword], "match": "contains"},
            "nodes": [{"id": "start", "type": "start"},
                      {"id": "order", "type": "set_variable", "variables": {"order": "A-7"}},
                      {"id": "ship", "type": "message", "message": {"type": "template", "template": template}},
                      {"id": "sorry", "type": "message", "message": {"type": "text", "text": "Sorry {{contact.name}}"}},
                      {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "order"}, {"from": "order", "to": "ship"},
                      {"from": "ship", "to": "end", "exit": "sent"}, {"from": "ship", "to": "sorry", "exit": "failed"},
                      {"from": "sorry", "to": "end", "exit": "sent"}, {"from": "sorry", "to": "end", "exit": "failed"}]}


async def test_an_approved_template_is_sent_with_metas_components_and_the_text_the_customer_reads(
        nats_url, database_url):
    org, contact = new_id(), "+4915112340001"
    async with running_flows(nats_url, database_url) as (js, http), Sends(js) as sends:
        await registered(js, org, META)
        templates = Templates(js, org)
        await templates.created("order_shipped", ORDER_SHIPPED)
        await templates.submitted("order_shipped")
        await templates.meta_reports("order_shipped", "APPROVED", at=T0.replace(minute=5))
        # the sync's report of the review, older than the approval, crosses it in the stream: passed over
        await templates.meta_reports("order_shipped", "PENDING", at=T0.replace(minute=4))
        flow_id = await active_flow(http, org, template_flow("track", {
            "name": "order_shipped", "language": "en_US", "parameters": SHORTHAND}))
        await inbound(js, org, META, contact, "track my order", name="Ana")
        [command] = await sends.take(1)
        assert command["type"] == "template" and command["to"] == contact and command["sender_id"] == META
        assert Template.model_validate(command["template"]) == Template(  # Meta's components, no shorthand
            name="order_shipped", language="en_US", components=[
                {"type": "header", "parameters": [{"type": "text", "text": "A-7"}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-7"}]},
                {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "A-7"}]}])
        assert command["rendered"] == ("Order A-7\n\nHi Ana, your order A-7 is on its way.\n\nAcme Shop\n\n"
                                       "[Track: https://acme.example/t/A-7]")
        await status(js, org, command, "sent")
        steps = await events(js, org, "flow.step_completed", lambda found: any(e.data["node"] == "end" for e in found))
        assert [(e.data["node"], e.data["exit"]) for e in steps if e.data["flow_id"] == flow_id] == [
            ("start", None), ("order", None), ("ship", "sent"), ("end", None)]

        rule = await http.post("/v1/auto-replies", headers=as_org(org), json={"delay_ms": 0, "message": {
            "type": "template", "template": {"name": "order_shipped", "language": "en_US", "parameters": {
                "header.1": "{{flow.message}}", "1": "{{contact.name|friend}}", "2": "{{flow.message}}",
                "button.0": "{{flow.message}}"}}}})
        assert rule.status_code == 201, rule.text
        await inbound(js, org, META, "+4915112340002", "B-9", name=None)
        [reply] = await sends.take(1)
        assert reply["client_ref"] == f"auto_reply:{rule.json()['id']}"
        body = Template.model_validate(reply["template"]).components[1]
        assert [p.text for p in body.parameters] == ["friend", "B-9"]
        assert reply["rendered"].startswith("Order B-9\n\nHi friend, your order B-9 is on its way.")


async def test_a_template_the_meta_sender_may_not_send_takes_the_failed_exit_with_the_reason(nats_url, database_url):
    org = new_id()
    async with running_flows(nats_url, database_url) as (js, http), Sends(js) as sends:
        await registered(js, org, META)
        ours, other = Templates(js, org), Templates(js, org, waba_id="998877665544")
        await ours.created("order_shipped", ORDER_SHIPPED)
        await ours.submitted("order_shipped")
        await ours.meta_reports("order_shipped", "APPROVED")
        await ours.created("order_pending", ORDER_SHIPPED)
        await ours.submitted("order_pending")  # under review
        await other.created("elsewhere", ORDER_SHIPPED, status="APPROVED")  # another account's
        cases = {  # keyword → (template, the reason's code and what the step's detail says besides)
            "pending": ({"name": "order_pending", "language": "en_US", "parameters": SHORTHAND},
                        {"code": "template_not_approved", "status": "PENDING"}),
            "unknown": ({"name": "elsewhere", "language": "en_US", "parameters": SHORTHAND},
                        {"code": "template_not_found"}),
            "mismatch": ({"name": "order_shipped", "language": "en_US", "parameters": {"1": "{{contact.name}}", "3": "x"}},
                         {"code": "template_parameters", "missing": ["header.1", "2", "button.0"], "extra": ["3"]}),
        }
        flows = {}
        for i, (keyword, (tpl, _)) in enumerate(cases.items()):
            flows[await active_flow(http, org, template_flow(keyword, tpl))] = keyword
            await inbound(js, org, META, f"+491511234100{i}", keyword, name="Ana")
        sorry = await sends.take(3)
        assert [c["text"] for c in sorry] == ["Sorry Ana"] * 3  # the failed exit's message, and nothing else
        await sends.none_within(0.5)
        steps = await events(js, org, "flow.step_completed",
                             lambda found: sum(e.data["node"] == "ship" for e in found) == 3)
        for e in steps:
            if e.data["node"] != "ship":
                continue
            keyword, detail = flows[e.data["flow_id"]], e.data["detail"]
            assert e.data["exit"] == "failed", keyword
            expected = cases[keyword][1]
            assert {k: detail.get(k) for k in expected} == expected, (keyword, detail)
            assert detail["reason"].startswith(f"{expected['code']}: "), (keyword, detail)
        unknown = next(e.data["detail"] for e in steps if e.data["node"] == "ship" and flows[e.data["flow_id"]] == "unknown")
        assert "the account 102290129340398 has no template 'elsewhere'" in unknown["reason"]
