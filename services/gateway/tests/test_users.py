"""Users and teams through the gateway's API, against real NATS JetStream and PostgreSQL: personal keys,
deletion, conflicts, another organization's people, bad input, and the user.* / team.* events."""

from __future__ import annotations

import asyncio

import nats
import pytest
from sqlalchemy.exc import DBAPIError

from switchboard_contracts import user as people
from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.ids import deterministic_id
from switchboard_devkit.testing.patience import REPLY
from switchboard_gateway.orgs import Organizations, hash_key
from switchboard_runtime.database import async_engine
from switchboard_runtime.settings import DatabaseUrl

from .helpers import running_gateway


async def add_user(client, headers, email, role="agent", name=None):
    r = await client.post("/v1/users", headers=headers, json={"email": email, "name": name or email.split("@")[0],
                                                              "role": role})
    assert r.status_code == 201, r.text
    return r.json()


async def test_users_of_each_role_act_with_their_own_key_until_deleted(nats_url, database_url):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
        org, key = await orgs.create("Acme")
        admin = {"X-API-Key": key}
        made = {role: await add_user(client, admin, f"{role}@example.com", role) for role in ("admin", "agent", "viewer")}
        for role, user in made.items():
            assert user["api_key"].startswith("sb_live_") and user["role"] == role
            me = await client.get("/v1/me", headers={"X-API-Key": user["api_key"]})
            assert me.status_code == 200 and me.json() == {
                "org_id": org.id, "name": "Acme", "role": role, "actor": {"type": "user", "id": user["id"]},
                "user": {"id": user["id"], "name": role, "email": f"{role}@example.com"}}
            shown = await client.get(f"/v1/users/{user['id']}", headers=admin)
            assert shown.status_code == 200 and "api_key" not in shown.json()  # shown once
            assert shown.json() == {k: v for k, v in user.items() if k != "api_key"}
        # a user admin manages users too; the deleted user's key is refused at once
        viewer = made["viewer"]
        r = await client.delete(f"/v1/users/{viewer['id']}", headers={"X-API-Key": made["admin"]["api_key"]})
        assert r.status_code == 204
        r = await client.get("/v1/me", headers={"X-API-Key": viewer["api_key"]})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert (await client.get(f"/v1/users/{viewer['id']}", headers=admin)).status_code == 404
        assert (await client.delete(f"/v1/users/{viewer['id']}", headers=admin)).status_code == 404
        assert (await client.patch(f"/v1/users/{viewer['id']}", headers=admin, json={"name": "x"})).status_code == 404
        # a role change takes effect on the next request
        agent = made["agent"]
        assert (await client.post("/v1/teams", headers={"X-API-Key": agent["api_key"]},
                                  json={"name": "t"})).status_code == 403
        r = await client.patch(f"/v1/users/{agent['id']}", headers=admin, json={"role": "admin", "name": "Boss"})
        assert r.status_code == 200 and r.json()["role"] == "admin" and r.json()["name"] == "Boss"
        assert r.json()["email"] == "agent@example.com" and r.json()["updated_at"] > agent["updated_at"]
        assert (await client.post("/v1/teams", headers={"X-API-Key": agent["api_key"]},
                                  json={"name": "t"})).status_code == 201
        # the commands a user's action causes name them
        r = await client.post("/v1/senders", headers={"X-API-Key": agent["api_key"]},
                              json={"name": "s", "provider": "simulator"})
        assert r.status_code == 201, r.text
        assert client.registered[-1].data["actor"] == {"type": "user", "id": agent["id"]}


async def test_emails_are_unique_per_organization_whatever_their_case(nats_url, database_url):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
        _, key = await orgs.create("Acme")
        _, other_key = await orgs.create("Other")
        admin = {"X-API-Key": key}
        ana = await add_user(client, admin, "Ana@Example.com")
        r = await client.post("/v1/users", headers=admin, json={"email": "ana@example.COM", "name": "A", "role": "viewer"})
        assert r.status_code == 409 and r.json()["error"]["details"] == {"field": "email"}
        bob = await add_user(client, admin, "bob@example.com")
        r = await client.patch(f"/v1/users/{bob['id']}", headers=admin, json={"email": "ANA@example.com"})
        assert r.status_code == 409 and r.json()["error"]["details"] == {"field": "email"}
        await add_user(client, {"X-API-Key": other_key}, "ana@example.com")  # another organization's
        assert (await client.delete(f"/v1/users/{ana['id']}", headers=admin)).status_code == 204
        await add_user(client, admin, "ana@example.com")  # free again once its user is deleted


async def test_another_organizations_people_are_not_found(nats_url, database_url):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
        _, key = await orgs.create("Acme")
        _, other_key = await orgs.create("Other")
        mine, theirs = {"X-API-Key": key}, {"X-API-Key": other_key}
        ana = await add_user(client, mine, "ana@example.com")
        team = (await client.post("/v1/teams", headers=mine, json={"name": "Support"})).json()
        for method, path, body in (("GET", f"/v1/users/{ana['id']}", None), ("PATCH", f"/v1/users/{ana['id']}",
                                   {"name": "x"}), ("DELETE", f"/v1/users/{ana['id']}", None),
                                   ("GET", f"/v1/teams/{team['id']}", None), ("PATCH", f"/v1/teams/{team['id']}",
                                   {"name": "x"}), ("DELETE", f"/v1/teams/{team['id']}", None),
                                   ("POST", f"/v1/teams/{team['id']}/members", {"user_id": ana["id"]}),
                                   ("DELETE", f"/v1/teams/{team['id']}/members/{ana['id']}", None)):
            r = await client.request(method, path, headers=theirs, json=body)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (method, path, r.text)
        assert (await client.get("/v1/users", headers=theirs)).json() == {"items": [], "next_cursor": None}
        assert (await client.get("/v1/teams", headers=theirs)).json() == {"items": [], "next_cursor": None}
        their_team = (await client.post("/v1/teams", headers=theirs, json={"name": "Support"})).json()
        r = await client.post(f"/v1/teams/{their_team['id']}/members", headers=theirs, json={"user_id": ana["id"]})
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "user_id"
        assert (await client.get(f"/v1/teams/{team['id']}", headers=mine)).json()["members"] == []


async def test_bad_input_is_a_clear_json_error_never_a_500(nats_url, database_url):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
        _, key = await orgs.create("Acme")
        admin = {"X-API-Key": key}
        ana = await add_user(client, admin, "ana@example.com")
        cases = [
            ("POST", "/v1/users", {"name": "A", "role": "agent"}, 422, ["email"]),
            ("POST", "/v1/users", {"email": "ana@example.com", "name": "A", "role": "owner"}, 422, ["role"]),
            ("POST", "/v1/users", {"email": "not an email", "name": "A", "role": "agent"}, 422, ["email"]),
            ("POST", "/v1/users", {"email": "b@example.com", "name": "", "role": "agent"}, 422, ["name"]),
            ("POST", "/v1/users", {"email": "b@example.com", "name": "B", "role": "agent", "x": 1}, 422, ["x"]),
            ("PATCH", f"/v1/users/{ana['id']}", {"role": None}, 422, ["role"]),
            ("PATCH", f"/v1/users/{ana['id']}", {}, 422, None),
            ("POST", "/v1/teams", {}, 422, ["name"]),
            ("PATCH", "/v1/teams/x", {"name": 5}, 422, ["name"]),
            ("POST", "/v1/teams/x/members", {"user_id": ""}, 422, ["user_id"]),
            ("GET", "/v1/users?limit=0", None, 422, ["limit"]),
            ("GET", "/v1/users?cursor=nonsense", None, 400, None),
        ]
        for method, path, body, status, fields in cases:
            r = await client.request(method, path, headers=admin, json=body)
            assert r.status_code == status, (method, path, body, r.text)
            error = r.json()["error"]
            assert error["code"] and error["message"], r.text
            if fields is not None:
                assert [f["field"] for f in error["details"]["fields"]] == fields, r.text
        r = await client.post("/v1/users", headers={**admin, "Content-Type": "application/json"}, content=b"{nope")
        assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
        r = await client.post("/v1/users", headers=admin, json={"email": "a\u0000@example.com", "name": "A",
                                                                "role": "agent"})
        assert r.status_code == 422


async def test_users_and_teams_are_listed_a_page_at_a_time(nats_url, database_url):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
        _, key = await orgs.create("Acme")
        admin = {"X-API-Key": key}
        ids = [(await add_user(client, admin, f"u{i}@example.com"))["id"] for i in range(5)]
        teams = [(await client.post("/v1/teams", headers=admin, json={"name": f"t{i}"})).json()["id"] for i in range(3)]
        for path, expected in (("/v1/users", ids), ("/v1/teams", teams)):
            seen, cursor = [], None
            for _ in range(10):
                r = await client.get(path, headers=admin, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
                assert r.status_code == 200 and len(r.json()["items"]) <= 2
                seen += [item["id"] for item in r.json()["items"]]
                cursor = r.json()["next_cursor"]
                if cursor is None:
                    break
            assert seen == expected
        assert all("api_key" not in u for u in (await client.get("/v1/users", headers=admin)).json()["items"])


async def test_teams_and_their_members(nats_url, database_url):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
        _, key = await orgs.create("Acme")
        admin = {"X-API-Key": key}
        ana, bob = await add_user(client, admin, "ana@example.com"), await add_user(client, admin, "bob@example.com")
        r = await client.post("/v1/teams", headers=admin, json={"name": "Support"})
        assert r.status_code == 201 and r.json()["members"] == [] and r.json()["name"] == "Support"
        team = r.json()["id"]
        assert (await client.post("/v1/teams", headers=admin, json={"name": "support"})).status_code == 409
        for _ in range(2):  # a second add changes nothing
            r = await client.post(f"/v1/teams/{team}/members", headers=admin, json={"user_id": ana["id"]})
            assert r.status_code == 200 and [m["user_id"] for m in r.json()["members"]] == [ana["id"]]
        await client.post(f"/v1/teams/{team}/members", headers=admin, json={"user_id": bob["id"]})
        members = (await client.get(f"/v1/teams/{team}", headers=admin)).json()["members"]
        assert [(m["user_id"], m["email"], m["role"]) for m in members] == [
            (ana["id"], "ana@example.com", "agent"), (bob["id"], "bob@example.com", "agent")]
        r = await client.post(f"/v1/teams/{team}/members", headers=admin, json={"user_id": "nobody"})
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "user_id"
        assert (await client.delete(f"/v1/teams/{team}/members/{ana['id']}", headers=admin)).status_code == 204
        assert (await client.delete(f"/v1/teams/{team}/members/{ana['id']}", headers=admin)).status_code == 404
        await client.delete(f"/v1/users/{bob['id']}", headers=admin)  # a deleted user leaves their teams
        r = await client.patch(f"/v1/teams/{team}", headers=admin, json={"name": "Tier 2"})
        assert r.status_code == 200 and r.json()["name"] == "Tier 2" and r.json()["members"] == []
        assert (await client.delete(f"/v1/teams/{team}", headers=admin)).status_code == 204
        assert (await client.get(f"/v1/teams/{team}", headers=admin)).status_code == 404
        assert (await client.post("/v1/teams", headers=admin, json={"name": "Tier 2"})).status_code == 201


async def events_of(js, org_id: str, n: int) -> list:
    sub = await js.subscribe(f"sb.evt.{org_id}.>", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    got = []
    try:
        while len(got) < n:
            got.append(await sub.next_msg(timeout=REPLY))
        try:  # and nothing more
            extra = await sub.next_msg(timeout=0.5)
            got.append(extra)
        except nats.errors.TimeoutError:
            pass
    finally:
        await sub.unsubscribe()
    return got


async def test_user_and_team_events_name_the_actor_and_carry_no_secret(nats_url, database_url):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        admin = {"X-API-Key": key}
        key_id = (await client.get("/v1/me", headers=admin)).json()["actor"]["id"]
        boss = await add_user(client, admin, "boss@example.com", "admin")
        as_boss = {"X-API-Key": boss["api_key"]}
        ana = await add_user(client, as_boss, "ana@example.com")
        await client.patch(f"/v1/users/{ana['id']}", headers=as_boss, json={"role": "viewer"})
        team = (await client.post("/v1/teams", headers=as_boss, json={"name": "Support"})).json()["id"]
        await client.post(f"/v1/teams/{team}/members", headers=as_boss, json={"user_id": ana["id"]})
        await client.patch(f"/v1/teams/{team}", headers=admin, json={"name": "Tier 2"})
        await client.delete(f"/v1/users/{ana['id']}", headers=as_boss)
        await client.delete(f"/v1/teams/{team}", headers=as_boss)
        msgs = await events_of(js, org.id, 9)
        events = [CloudEvent.from_json_bytes(m.data) for m in msgs]
        by_key, by_boss = {"type": "api_key", "id": key_id}, {"type": "user", "id": boss["id"]}
        assert [(e.type, e.subject, e.data["actor"]) for e in events] == [
            (people.USER_CREATED, boss["id"], by_key),
            (people.USER_CREATED, ana["id"], by_boss),
            (people.USER_UPDATED, ana["id"], by_boss),
            (people.TEAM_CREATED, team, by_boss),
            (people.TEAM_MEMBER_ADDED, team, by_boss),
            (people.TEAM_UPDATED, team, by_key),
            (people.USER_DELETED, ana["id"], by_boss),
            (people.TEAM_MEMBER_REMOVED, team, by_boss),  # the deleted user left the team
            (people.TEAM_DELETED, team, by_boss)]
        assert events[2].data["role"] == "viewer" and events[5].data["name"] == "Tier 2"
        assert events[4].data["user_id"] == events[7].data["user_id"] == ana["id"]
        assert {e.source for e in events} == {"switchboard/gateway"} and {e.orgid for e in events} == {org.id}
        for m, e in zip(msgs, events):
            assert m.headers["Nats-Msg-Id"] == e.id
            assert m.subject == f"sb.evt.{org.id}.{e.type.split('.')[1]}.{e.type.split('.')[2]}"
        assert events[1].id == deterministic_id("user", ana["id"], 1)  # the user and its version
        assert events[6].id == deterministic_id("user", ana["id"], 3)
        assert len({e.id for e in events}) == 9
        raw = b"".join(m.data for m in msgs)
        for secret in (key, boss["api_key"], ana["api_key"]):
            assert secret.encode() not in raw and hash_key(secret).encode() not in raw
            assert secret[:12].encode() not in raw  # not even the key's prefix


async def test_events_wait_in_the_outbox_while_nats_cannot_take_them(nats_url, database_url):
    """The change commits with its event in the outbox; the drain publishes it once JetStream answers."""
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        stream = await js.stream_info("SWITCHBOARD_EVENTS")
        await js.delete_stream("SWITCHBOARD_EVENTS")  # every publish now fails: no stream answers
        user = await add_user(client, {"X-API-Key": key}, "ana@example.com")
        await asyncio.sleep(0.3)
        await js.add_stream(stream.config)
        [msg] = await events_of(js, org.id, 1)
        assert CloudEvent.from_json_bytes(msg.data).subject == user["id"]


async def test_a_database_error_about_a_key_does_not_repeat_its_hash(database_url):
    """An error's text may be logged (errors.py): the statement's parameters, a key's hash, stay out of it."""
    engine = async_engine(DatabaseUrl.parse(database_url), pool_size=1)  # no gateway schema: every query fails
    try:
        key = "sb_live_" + "x" * 32
        with pytest.raises(DBAPIError) as raised:
            await Organizations(engine).holder(key)
        assert "api_keys" in str(raised.value) and hash_key(key) not in str(raised.value)
        assert hash_key(key) not in repr(raised.value)
    finally:
        await engine.dispose()
