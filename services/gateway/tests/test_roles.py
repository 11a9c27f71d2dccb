"""Roles: `roles.may` as a table, and the gateway applying it to every authenticated route — its own and
the forwarded ones — with the caller (organization, actor, role) reaching the service behind it."""

from __future__ import annotations

import contextlib

import pytest
from fastapi import FastAPI, Request

from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.ports import server_port
from switchboard_gateway.roles import may, refusable
from switchboard_runtime.http.internal_auth import Caller, caller_of, internal_token
from switchboard_runtime.http.server import HttpServer

from .helpers import running_gateway

READ, AGENT, ADMIN = {"admin", "agent", "viewer"}, {"admin", "agent"}, {"admin"}


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("GET", "/v1/senders", READ),
    ("HEAD", "/v1/campaigns/x", READ),
    ("GET", "/v1/stats/overview", READ),
    ("GET", "/v1/conversations/counts", READ),
    ("GET", "/v1/users", READ),
    ("GET", "/v1/webhook-endpoints/x/attempts", READ),
    ("GET", "/v1/audit/export", ADMIN),  # the organization's whole history: admins only
    ("GET", "/v1/audit", ADMIN),
    ("GET", "/v1/senders/../audit/export", ADMIN),
    ("GET", "/v1/auditx", READ),
    ("POST", "/v1/webhook-endpoints", ADMIN),
    ("POST", "/v1/webhook-endpoints/x/rotate-secret", ADMIN),
    ("POST", "/v1/conversations", AGENT),
    ("POST", "/v1/conversations/x/assign", AGENT),
    ("PATCH", "/v1/conversations/x", AGENT),
    ("DELETE", "/v1/conversations/x/tags/vip", AGENT),
    ("POST", "/v1/messages", AGENT),
    ("POST", "/v1/messages/bulk", AGENT),
    ("post", "/v1/canned-responses", AGENT),
    ("PUT", "/v1/canned-responses/x", AGENT),
    ("POST", "/v1/messages/x", ADMIN),  # only the sends themselves
    ("POST", "/v1/conversationsx", ADMIN),  # a prefix is a whole path segment
    ("POST", "/v1/conversations/../sla-policies", ADMIN),  # judged as the path a server would resolve
    ("POST", "/v1/conversations/x/../../senders", ADMIN),
    ("POST", "//v1/senders", ADMIN),
    ("POST", "/v1/senders", ADMIN),
    ("POST", "/v1/senders/x/simulate/inbound", ADMIN),
    ("POST", "/v1/campaigns", ADMIN),
    ("POST", "/v1/broadcast-lists/x/send", ADMIN),
    ("DELETE", "/v1/blocklist/x", ADMIN),
    ("PUT", "/v1/flows/x", ADMIN),
    ("POST", "/v1/executions/x/cancel", ADMIN),
    ("POST", "/v1/auto-replies", ADMIN),
    ("POST", "/v1/users", ADMIN),
    ("DELETE", "/v1/teams/x/members/y", ADMIN),
    ("POST", "/v1/sla-policies", ADMIN),
    ("PATCH", "/v1/inbox-settings", ADMIN),
    ("POST", "/v1/templates", ADMIN),
    ("OPTIONS", "/v1/conversations", AGENT),
])
def test_may(method, path, allowed):
    assert {role for role in ("admin", "agent", "viewer") if may(role, method, path)} == allowed
    assert refusable(method, path) == (allowed != READ)


def test_an_unknown_role_may_nothing():
    assert not may("owner", "GET", "/v1/senders") and not may("", "GET", "/v1/me")


def echo_app() -> FastAPI:
    """A stand-in for a service behind the gateway: answers every request with what it received."""
    app = FastAPI()

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request: Request):
        return {"method": request.method, "path": request.scope["path"],
                "headers": {k: v for k, v in request.headers.items() if k.startswith("x-switchboard")}}

    return app


@contextlib.asynccontextmanager
async def echo_server():
    port = server_port()
    server = HttpServer(echo_app(), "127.0.0.1", port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.stop()


async def people(client, headers) -> dict[str, dict]:
    """A user of each role, with their key's headers."""
    out = {}
    for role in ("admin", "agent", "viewer"):
        r = await client.post("/v1/users", headers=headers, json={"email": f"{role}@example.com", "name": role,
                                                                  "role": role})
        assert r.status_code == 201, r.text
        out[role] = {**r.json(), "headers": {"X-API-Key": r.json()["api_key"]}}
    return out


# (method, path, body, the roles that pass the gateway's role check); the upstreams answer the rest
ROUTES = [
    ("GET", "/v1/me", None, READ),
    ("GET", "/v1/users", None, READ),
    ("GET", "/v1/teams", None, READ),
    ("GET", "/v1/senders", None, READ),
    ("GET", "/v1/campaigns", None, READ),
    ("GET", "/v1/flows/x", None, READ),
    ("GET", "/v1/webhook-endpoints", None, READ),
    ("GET", "/v1/audit/export", None, ADMIN),
    ("POST", "/v1/webhook-endpoints/x/recover", {}, ADMIN),
    ("GET", "/v1/stats/overview", None, READ),
    ("GET", "/v1/conversations/counts", None, READ),
    ("POST", "/v1/conversations/x/assign", {"user_id": "u"}, AGENT),
    ("PATCH", "/v1/conversations/x", {}, AGENT),
    ("POST", "/v1/canned-responses", {}, AGENT),
    ("POST", "/v1/messages", {}, AGENT),
    ("POST", "/v1/messages/bulk", {}, AGENT),
    ("POST", "/v1/senders", {}, ADMIN),
    ("POST", "/v1/senders/x/pause", {}, ADMIN),
    ("DELETE", "/v1/senders/x", None, ADMIN),
    ("POST", "/v1/senders/x/simulate/inbound", {}, ADMIN),
    ("POST", "/v1/campaigns", {}, ADMIN),
    ("DELETE", "/v1/blocklist/x", None, ADMIN),
    ("POST", "/v1/broadcast-lists", {}, ADMIN),
    ("POST", "/v1/flows", {}, ADMIN),
    ("POST", "/v1/flows/x/executions", {}, ADMIN),
    ("POST", "/v1/executions/x/cancel", {}, ADMIN),
    ("PUT", "/v1/auto-replies/x", {}, ADMIN),
    ("POST", "/v1/sla-policies", {}, ADMIN),
    ("PATCH", "/v1/inbox-settings", {}, ADMIN),
    ("GET", "/v1/inbox-settings", None, READ),
    ("POST", "/v1/users", {}, ADMIN),
    ("PATCH", "/v1/users/x", {}, ADMIN),
    ("DELETE", "/v1/users/x", None, ADMIN),
    ("POST", "/v1/teams", {}, ADMIN),
    ("POST", "/v1/teams/x/members", {}, ADMIN),
    ("DELETE", "/v1/teams/x/members/y", None, ADMIN),
]


async def test_every_route_checks_the_role_and_forwards_the_caller(nats_url, database_url):
    async with echo_server() as upstream, running_gateway(nats_url, database_url, campaigns_url=upstream,
                                                          flows_url=upstream, webhooks_url=upstream) as (client, _, orgs):
        org, key = await orgs.create("Acme")
        users = await people(client, {"X-API-Key": key})
        refused = []
        for method, path, body, allowed in ROUTES:
            for role, user in users.items():
                r = await client.request(method, path, headers=user["headers"], json=body)
                assert r.status_code != 500, (method, path, role, r.text)
                if role in allowed:
                    assert r.status_code != 403, (method, path, role, r.text)
                else:
                    assert r.status_code == 403, (method, path, role, r.text)
                    assert r.json()["error"]["code"] == "forbidden" and r.json()["error"]["details"]["role"] == role
                    refused.append((method, path, role))
        assert len(refused) == sum(3 - len(allowed) for *_, allowed in ROUTES)

        # what reaches the service: the caller as headers, whatever the client sent of its own
        agent = users["agent"]
        r = await client.post("/v1/campaigns/c1/pause", headers={
            **users["admin"]["headers"], "X-Switchboard-Role": "viewer", "X-Switchboard-Org": "other"})
        assert r.status_code == 200 and r.json()["path"] == "/v1/campaigns/c1/pause"
        assert r.json()["headers"]["x-switchboard-role"] == "admin"
        assert r.json()["headers"]["x-switchboard-org"] == org.id
        # the path as the client sent it (parsing it as a URL would drop a CR or a tab: a 307 to another path)
        r = await client.get("/v1/campaigns/a%0Db%09", headers=users["admin"]["headers"])
        assert r.status_code == 200 and r.json()["path"] == "/v1/campaigns/a\rb\t", r.text
        r = await client.get("/v1/flows", headers=agent["headers"])
        seen = r.json()["headers"]
        assert seen == {"x-switchboard-org": org.id, "x-switchboard-actor-type": "user",
                        "x-switchboard-actor-id": agent["id"], "x-switchboard-role": "agent",
                        "x-switchboard-internal": internal_token(TEST_SECRET_KEY)}
        assert caller_of(TEST_SECRET_KEY, seen, "flows") == Caller(org.id, "user", agent["id"], "agent")
        key_id = (await client.get("/v1/me", headers={"X-API-Key": key})).json()["actor"]["id"]
        seen = (await client.get("/v1/campaigns", headers={"X-API-Key": key})).json()["headers"]
        assert caller_of(TEST_SECRET_KEY, seen, "campaigns") == Caller(org.id, "api_key", key_id, "admin")


async def test_the_conversations_service_receives_the_agents_write(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, _, orgs):
        _, key = await orgs.create("Acme")
        users = await people(client, {"X-API-Key": key})
        r = await client.post("/v1/conversations/x/assign", headers=users["agent"]["headers"], json={})
        assert r.status_code not in (403, 500, 503), r.text  # forwarded, answered by the service itself
        assert r.json()["error"]["code"] != "forbidden"
        r = await client.post("/v1/conversations/x/assign", headers=users["viewer"]["headers"], json={})
        assert r.status_code == 403


async def test_the_merged_document_lists_403_where_a_role_may_be_refused(nats_url, database_url):
    async with running_gateway(nats_url, database_url) as (client, _, _orgs):
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert "403" in paths["/v1/senders"]["post"]["responses"]  # the gateway's own
        assert "403" not in paths["/v1/senders"]["get"]["responses"]
        assert "403" in paths["/v1/users"]["post"]["responses"] and "403" not in paths["/v1/users"]["get"]["responses"]
        assert "403" in paths["/v1/messages"]["post"]["responses"]  # forwarded: a viewer may not send
        assert "403" in paths["/v1/inbox-settings"]["patch"]["responses"]
        for path, item in paths.items():  # every write of every role-checked operation, merged or own
            for method, op in item.items():
                if op.get("security") and method not in ("get", "head"):
                    assert "403" in op["responses"], (method, path)
