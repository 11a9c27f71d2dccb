"""Meta's template management through the running session-pool (NATS request/reply, `sender_rpc.TEMPLATE_*`)
against the fake Graph API over HTTP: create, list (every page), edit and delete with the Meta sender's
own credentials; Meta's refusals as 422 graph_api_error with its code and subcode; a sender that is not
the organization's, not Meta's or has no WABA refused before Meta is asked; an unreachable or failing
Graph API a 503; one WABA's hanging Graph API holding up no other's answers."""

from __future__ import annotations

import asyncio

from switchboard_contracts import commands, sender_rpc
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.fake_graph import running_fake_graph
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_runtime.sealing import Sealer

from .helpers import collect_events, command, publish_command, register_simulator, running_session_pool
from .test_waha_lifecycle import ask

BODY = {"name": "order_shipped", "language": "en_US", "category": "UTILITY", "parameter_format": "NAMED",
        "components": [{"type": "BODY", "text": "Hi {{first_name}}, your order {{order}} has shipped.",
                        "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Ada"},
                                                               {"param_name": "order", "example": "A-1"}]}}]}


async def register(js, org, sender_id, base_url, *, pnid, waba: str | None = "1022", token="EAAB-good",
                   wait_for="connected"):
    config = {"phone_number_id": pnid, "api_base_url": base_url, "api_version": "v23.0",
              **({"waba_id": waba} if waba else {})}
    cmd = commands.RegisterSender(sender_id=sender_id, name="meta", provider="meta-cloud", config=config,
                                  sealed_credentials=Sealer(TEST_SECRET_KEY).seal(
                                      {"access_token": token, "app_secret": "s", "verify_token": "v"}))
    await publish_command(js, command(org, commands.REGISTER_SENDER, cmd))
    await collect_events(js, f"sb.evt.{org}.sender.{wait_for}", lambda ev: any(e.subject == sender_id for e in ev))


def no_token(reply: sender_rpc.SenderReply) -> sender_rpc.SenderReply:
    assert "EAAB" not in reply.model_dump_json()
    return reply


async def test_create_goes_to_meta_with_the_senders_token_and_answers_metas_reply(nats_url, database_url):
    org, sid, revoked = new_id(), new_id(), new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        await register(js, org, sid, graph.url, pnid="7001")
        created = no_token(await ask(nats_url, sender_rpc.TEMPLATE_CREATE, org, sid, body=BODY))
        assert created.ok, created
        [held] = graph.templates("1022")
        assert created.data == {"id": held["id"], "status": "PENDING", "category": "UTILITY"}
        assert held["id"].isdigit() and graph.created == [BODY]  # passed through unchanged

        again = no_token(await ask(nats_url, sender_rpc.TEMPLATE_CREATE, org, sid, body=BODY))
        assert (again.ok, again.status, again.code) == (False, 422, "graph_api_error")
        assert again.message == ("There is already English (US) content for this template. "
                                 "You can create a new template and try again.")
        assert {k: again.details[k] for k in ("code", "error_subcode", "message", "error_user_title")} == {
            "code": 100, "error_subcode": 2388024, "message": "Invalid parameter",
            "error_user_title": "Content in This Language Already Exists"}
        assert again.details["fbtrace_id"] and again.details["error_user_msg"] == again.message

        no_body = await ask(nats_url, sender_rpc.TEMPLATE_CREATE, org, sid, body={**BODY, "name": "other",
                                                                                "components": []})
        assert (no_body.status, no_body.details["code"], no_body.details["error_subcode"]) == (422, 100, 2388043)
        assert "components" in no_body.message

        graph.template_errors = [2, (502, {"error": {"message": "Bad gateway"}})]  # Meta failing: try again later
        for _ in range(2):
            failing = await ask(nats_url, sender_rpc.TEMPLATE_CREATE, org, sid, body={**BODY, "name": "third"})
            assert (failing.status, failing.code) == (503, "provider_unreachable")
        assert [t["name"] for t in graph.templates("1022")] == ["order_shipped"]

        await register(js, org, revoked, graph.url, pnid="7002", waba="2033", token="EAAB-revoked",
                       wait_for="disconnected")
        refused = no_token(await ask(nats_url, sender_rpc.TEMPLATE_CREATE, org, revoked, body=BODY))
        assert (refused.status, refused.code, refused.details["code"]) == (422, "graph_api_error", 190)
        assert refused.message.startswith("(190) Invalid OAuth access token")
    assert graph.templates("2033") == []


async def test_list_follows_metas_pages_to_the_end(nats_url, database_url):
    org, sid = new_id(), new_id()
    body = [{"type": "BODY", "text": "Your code is {{1}}."}]
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        made = [graph.add_template("1022", f"code_{i:03}", "en_US", "AUTHENTICATION", body) for i in range(250)]
        graph.set_status(made[7]["id"], "REJECTED", "INVALID_FORMAT")
        graph.add_template("9999", "someone_elses", "en_US", "UTILITY", body)
        await register(js, org, sid, graph.url, pnid="7101")
        listed = no_token(await ask(nats_url, sender_rpc.TEMPLATE_LIST, org, sid))
    assert listed.ok and set(listed.data) == {"data"}  # complete: no `truncated`
    templates = listed.data["data"]
    assert [t["id"] for t in templates] == [t["id"] for t in made]  # three pages of at most 100, in order
    assert templates[7]["status"] == "REJECTED" and templates[7]["rejected_reason"] == "INVALID_FORMAT"
    assert set(templates[0]) == {"id", "name", "language", "category", "status", "components", "quality_score",
                                 "rejected_reason"}  # the fields asked for (no parameter_format was set)


async def test_edit_and_delete_at_meta(nats_url, database_url):
    org, sid = new_id(), new_id()
    body = [{"type": "BODY", "text": "Hello"}]
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        english = graph.add_template("1022", "welcome", "en_US", "MARKETING", body)
        german = graph.add_template("1022", "welcome", "de", "MARKETING", body)
        graph.add_template("1022", "goodbye", "en_US", "MARKETING", body)
        await register(js, org, sid, graph.url, pnid="7201")

        new = [{"type": "BODY", "text": "Hello again"}]
        edited = await ask(nats_url, sender_rpc.TEMPLATE_EDIT, org, sid, body={"hsm_id": english["id"],
                                                                             "components": new})
        assert edited.ok and edited.data == {"success": True}
        assert [(t["components"], t["status"]) for t in graph.templates("1022") if t["id"] == english["id"]] == [
            (new, "PENDING")]
        path = await ask(nats_url, sender_rpc.TEMPLATE_EDIT, org, sid, body={"hsm_id": "7201/messages"})
        assert (path.status, path.code) == (400, "bad_request")  # an id goes into the path: digits only

        one = await ask(nats_url, sender_rpc.TEMPLATE_DELETE, org, sid, body={"name": "welcome", "hsm_id": german["id"]})
        assert one.ok and one.data == {"success": True}
        assert sorted((t["name"], t["language"]) for t in graph.templates("1022")) == [
            ("goodbye", "en_US"), ("welcome", "en_US")]
        every = await ask(nats_url, sender_rpc.TEMPLATE_DELETE, org, sid, body={"name": "welcome"})
        assert every.ok and [t["name"] for t in graph.templates("1022")] == ["goodbye"]
        unknown = await ask(nats_url, sender_rpc.TEMPLATE_DELETE, org, sid, body={"name": "welcome"})
        assert (unknown.status, unknown.code, unknown.details["code"]) == (422, "graph_api_error", 100)
        unnamed = await ask(nats_url, sender_rpc.TEMPLATE_DELETE, org, sid, body={})
        assert (unnamed.status, unnamed.code) == (400, "bad_request")


async def test_only_the_organizations_meta_senders_with_a_waba_and_a_reachable_api(nats_url, database_url):
    org, sid, simulator, no_waba = new_id(), new_id(), new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        async with running_fake_graph() as graph:
            graph.add_template("1022", "welcome", "en_US", "UTILITY", [{"type": "BODY", "text": "Hi"}])
            await register(js, org, sid, graph.url, pnid="7301")
            await register(js, org, no_waba, graph.url, pnid="7302", waba=None)
            await register_simulator(js, org, simulator)
            assert (await ask(nats_url, sender_rpc.TEMPLATE_LIST, org, sid)).ok
            others = await ask(nats_url, sender_rpc.TEMPLATE_LIST, "another_org", sid)
            assert (others.status, others.code) == (404, "not_found")
            unknown = await ask(nats_url, sender_rpc.TEMPLATE_CREATE, org, new_id(), body=BODY)
            assert (unknown.status, unknown.code) == (404, "not_found")
            sim = await ask(nats_url, sender_rpc.TEMPLATE_CREATE, org, simulator, body=BODY)
            assert (sim.status, sim.code) == (422, "not_a_meta_sender")
            bare = await ask(nats_url, sender_rpc.TEMPLATE_LIST, org, no_waba)
            assert (bare.status, bare.code) == (422, "no_waba_id")
            assert graph.created == []
        gone = no_token(await ask(nats_url, sender_rpc.TEMPLATE_LIST, org, sid))  # the fake has stopped
    assert (gone.ok, gone.status, gone.code) == (False, 503, "provider_unreachable")


async def test_a_hanging_waba_never_delays_another(nats_url, database_url):
    org, stuck, healthy = new_id(), new_id(), new_id()
    async with running_fake_graph() as graph, running_session_pool(nats_url, database_url) as js:
        await register(js, org, stuck, graph.url, pnid="7401", waba="4001")
        await register(js, org, healthy, graph.url, pnid="7402", waba="4002")
        graph.slow = {"4001": 5.0}
        slow = asyncio.create_task(ask(nats_url, sender_rpc.TEMPLATE_LIST, org, stuck))
        await asyncio.sleep(0.3)  # the stuck one is asked first
        fast = await ask(nats_url, sender_rpc.TEMPLATE_LIST, org, healthy)
        assert fast.ok and not slow.done()  # answered while the other hangs (5 s): an order, not a limit
        assert (await slow).ok
