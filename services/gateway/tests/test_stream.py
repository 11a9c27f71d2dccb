"""`GET /v1/stream` (Server-Sent Events) against real NATS JetStream and PostgreSQL: live delivery, type
and role filters, exact resumption with Last-Event-ID, resync, heartbeats, slow clients, lost live
messages, clean-up on disconnect."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from pydantic import BaseModel

from switchboard_contracts import subjects
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_devkit.testing.patience import REPLY
from switchboard_gateway import live_feed
from switchboard_gateway.live_feed import LiveFeed, TypeFilter, allowed_types, parse_types

from .helpers import running_gateway

STREAM = "SWITCHBOARD_EVENTS"


class Note(BaseModel):
    n: int
    pad: str = ""


async def publish(js, org: str, type_: str, n: int = 0, pad: str = "") -> int:
    """A public event of `org` (`type_` is `<entity>.<event>`); its stream sequence."""
    ce = make_envelope(id=new_id(), source="test", type=f"switchboard.{type_}.v1", orgid=org,
                       data=Note(n=n, pad=pad))
    ack = await js.publish(f"sb.evt.{org}.{type_}", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})
    return ack.seq


class Events:
    """The SSE messages of a streamed response, one at a time (comments as `{"comment": …}`)."""

    def __init__(self, response):
        self.response = response
        self._lines = response.aiter_lines()

    async def _read(self) -> dict:
        event: dict = {}
        async for line in self._lines:
            if line == "":
                if event:
                    return event
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                event["comment"] = value
            elif field == "data":
                event["data"] = event["data"] + "\n" + value if "data" in event else value
            else:
                event[field] = value
        raise EOFError("the stream ended")

    async def next(self, timeout: float = 5.0) -> dict:
        return await asyncio.wait_for(self._read(), timeout)

    async def event(self, timeout: float = 5.0) -> dict:
        """The next message that is not a comment."""
        while "comment" in (e := await self.next(timeout)):
            pass
        return e

    async def events(self, n: int, timeout: float = 5.0) -> list[dict]:
        return [await self.event(timeout) for _ in range(n)]


def opened(stream) -> Events:
    assert stream.status_code == 200, stream.status_code
    assert stream.headers["content-type"].startswith("text/event-stream")
    return Events(stream)


async def connect(events: Events) -> Events:
    assert (await events.next()) == {"comment": "connected"}  # registered: what is stored from now reaches it
    return events


def sequences(events: list[dict]) -> list[int]:
    return [int(e["id"]) for e in events]


@pytest.fixture
def feeds(monkeypatch):
    """The gateway's live feed (it runs in this process), with a short audit period."""
    made: list[LiveFeed] = []
    init = LiveFeed.__init__

    def capture(self, *args, **kwargs):
        init(self, *args, **{**kwargs, "audit_seconds": 0.3})
        made.append(self)

    monkeypatch.setattr(LiveFeed, "__init__", capture)
    return made


async def eventually(predicate, timeout: float = 5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await predicate()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return value


async def live_consumers(js) -> list[str]:
    return [c.name for c in await js.consumers_info(STREAM) if c.name.startswith("live-")]


async def no_live_consumers(js) -> bool:
    return await live_consumers(js) == []


# --- the filters (pure) ---------------------------------------------------------------------------

def test_types_parse_and_meet_the_role():
    assert parse_types(None) is None
    assert parse_types("conversation.*, message.status,*") == (("conversation", "*"), ("message", "status"),
                                                               ("*", "*"))
    for bad in ("", "conversation", "a.b.c", "Conversation.x", "conversation.*,", "x.$", "conversation.**"):
        with pytest.raises(ValueError):
            parse_types(bad)
    inbox = (("conversation", "*"), ("message", "*"))
    assert allowed_types(None, "admin") is None and allowed_types(None, "agent") == inbox
    assert allowed_types(parse_types("*"), "viewer") == inbox
    assert allowed_types(parse_types("*.status,sender.*"), "agent") == (("conversation", "status"),
                                                                         ("message", "status"))
    assert allowed_types(parse_types("sender.*"), "viewer") == ()
    assert allowed_types(parse_types("sender.*"), "who-knows") == ()  # an unknown role gets the least


def test_replay_filters_never_overlap():
    org = "o1"
    assert TypeFilter(None).subjects(org) == ["sb.evt.o1.>"]
    assert TypeFilter((("conversation", "*"), ("message", "status"))).subjects(org) == [
        "sb.evt.o1.conversation.*", "sb.evt.o1.message.status"]
    assert TypeFilter((("conversation", "*"), ("conversation", "assigned"))).subjects(org) == [
        "sb.evt.o1.conversation.*"]
    assert TypeFilter((("conversation", "*"), ("*", "status"))).subjects(org) == ["sb.evt.o1.>"]
    f = TypeFilter((("conversation", "*"), ("*", "status")))
    assert f.accepts("conversation.assigned") and f.accepts("message.status") and not f.accepts("message.received")


def test_frames():
    assert live_feed.sse_frame(7, "message.status", b'{"a":1}') == b'id: 7\nevent: message.status\ndata: {"a":1}\n\n'
    assert live_feed.sse_frame(8, "x.y", b'{\n"a":1}') == b'id: 8\nevent: x.y\ndata: {\ndata: "a":1}\n\n'


# --- the endpoint ---------------------------------------------------------------------------------

async def test_events_from_now_with_their_sequence_type_and_cloudevent(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        other, _ = await orgs.create("Other")
        await publish(js, org.id, "conversation.assigned", 0)  # before: not sent
        async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key}) as r:
            events = await connect(opened(r))
            seq = await publish(js, org.id, "conversation.assigned", 1)
            await publish(js, other.id, "conversation.assigned", 2)  # another organization's: never here
            last = await publish(js, org.id, "message.status", 3)
            first, second = await events.events(2)
        assert first["id"] == str(seq) and first["event"] == "conversation.assigned"
        ce = json.loads(first["data"])
        assert ce["type"] == "switchboard.conversation.assigned.v1" and ce["orgid"] == org.id
        assert ce["data"] == {"n": 1, "pad": ""} and ce["specversion"] == "1.0"
        assert (second["id"], second["event"], json.loads(second["data"])["data"]["n"]) == (
            str(last), "message.status", 3)
        await eventually(lambda: _gone(feeds[0]))  # the client left the feed


async def _gone(feed: LiveFeed) -> bool:
    return feed.clients == 0


async def test_auth_and_bad_types(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
        _, key = await orgs.create("Acme")
        r = await client.get("/v1/stream")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        r = await client.get("/v1/stream", headers={"X-API-Key": "sb_live_wrong"})
        assert r.status_code == 401
        for bad in ("conversation", "a.b.c", "*.*.*", ""):
            r = await client.get("/v1/stream", params={"types": bad}, headers={"X-API-Key": key})
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["error"]["details"]["fields"][0]["field"] == "types"
        for bad in ({"Last-Event-ID": "x"}, {"Last-Event-ID": "-1"}):
            r = await client.get("/v1/stream", headers={"X-API-Key": key, **bad})
            assert r.status_code == 422, r.text
        r = await client.get("/v1/stream", params={"last_event_id": "nope"}, headers={"X-API-Key": key})
        assert r.status_code == 422
        assert feeds[0].clients == 0
        doc = (await client.get("/openapi.json")).json()["paths"]["/v1/stream"]["get"]
        assert "text/event-stream" in doc["responses"]["200"]["content"]
        assert {"401", "422"} <= set(doc["responses"])


async def test_type_filter_with_wildcards(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        async with client.stream("GET", "/v1/stream", params={"types": "conversation.*,message.status"},
                                 headers={"X-API-Key": key}) as r, \
                client.stream("GET", "/v1/stream", params={"types": "*.status"},
                              headers={"X-API-Key": key}) as r2:
            both, statuses = await connect(opened(r)), await connect(opened(r2))
            sent = {}
            for n, type_ in enumerate(["message.received", "conversation.assigned", "sender.connected",
                                       "message.status", "conversation.resolved", "sender.status"]):
                sent[type_] = await publish(js, org.id, type_, n)
            got = await both.events(3)
            assert [e["event"] for e in got] == ["conversation.assigned", "message.status", "conversation.resolved"]
            assert sequences(got) == [sent[t] for t in ("conversation.assigned", "message.status",
                                                         "conversation.resolved")]
            got = await statuses.events(2)
            assert [e["event"] for e in got] == ["message.status", "sender.status"]


async def test_resume_with_last_event_id_gets_exactly_the_events_after_it(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        other, _ = await orgs.create("Other")
        headers = {"X-API-Key": key}
        async with client.stream("GET", "/v1/stream", headers=headers) as r:
            events = await connect(opened(r))
            seen = [await publish(js, org.id, "conversation.assigned", n) for n in range(3)]
            got = await events.events(3)
            assert sequences(got) == seen
        # disconnected: events go on (others' too)
        missed = []
        for n in range(5):
            await publish(js, other.id, "conversation.assigned", 100 + n)
            missed.append(await publish(js, org.id, "message.status", 10 + n))
        async with client.stream("GET", "/v1/stream", headers={**headers, "Last-Event-ID": got[-1]["id"]}) as r:
            events = Events(r)
            replayed = await events.events(5)
            assert sequences(replayed) == missed
            assert [json.loads(e["data"])["data"]["n"] for e in replayed] == [10, 11, 12, 13, 14]
            live = await publish(js, org.id, "conversation.resolved", 20)
            assert sequences([await events.event()]) == [live]  # and then live, nothing repeated
        # without the header (an EventSource-less client), from the middle, with a type filter
        async with client.stream("GET", "/v1/stream", headers=headers,
                                 params={"last_event_id": seen[0], "types": "conversation.*"}) as r:
            events = Events(r)
            assert sequences(await events.events(3)) == [seen[1], seen[2], live]
            after = await publish(js, org.id, "conversation.assigned", 21)
            assert sequences([await events.event()]) == [after]
        # the header wins over the query (a browser's reconnect keeps its URL)
        async with client.stream("GET", "/v1/stream", params={"last_event_id": seen[0]},
                                 headers={**headers, "Last-Event-ID": str(live)}) as r:
            assert sequences([await Events(r).event()]) == [after]
        await eventually(lambda: _gone(feeds[0]))
        assert await eventually(lambda: no_live_consumers(js))  # every replay's consumer deleted


async def test_resync_when_the_position_is_no_longer_in_the_stream(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        old = [await publish(js, org.id, "conversation.assigned", n) for n in range(4)]
        await js.purge_stream(STREAM, seq=old[2] + 1)  # as if aged out: everything before old[2] + 1
        info = (await js.stream_info(STREAM)).state
        assert info.first_seq == old[2] + 1
        async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key, "Last-Event-ID": str(old[0])}) as r:
            events = Events(r)
            resync = await events.next()
            assert resync["event"] == "resync" and resync["id"] == str(info.last_seq)
            assert json.loads(resync["data"]) == {"reason": "position_unavailable", "last_event_id": old[0],
                                                  "first_seq": old[2] + 1, "resumes_after": info.last_seq}
            now = await publish(js, org.id, "conversation.assigned", 9)
            assert sequences([await events.event()]) == [now]  # and on from now
        # the position just before the first one kept is still whole: no resync, the rest replayed
        async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key, "Last-Event-ID": str(old[2])}) as r:
            assert sequences(await Events(r).events(2)) == [old[3], now]
        # a position the stream never had (a stream made again, say)
        async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key, "Last-Event-ID": "999999"}) as r:
            assert (await Events(r).next())["event"] == "resync"


async def test_a_heartbeat_when_nothing_was_sent(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False,
                               stream_heartbeat_seconds=0.3) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key}) as r:
            events = await connect(opened(r))
            started = asyncio.get_running_loop().time()
            assert await events.next(2) == {"comment": "keep-alive"}
            assert asyncio.get_running_loop().time() - started >= 0.25
            seq = await publish(js, org.id, "message.status")
            assert sequences([await events.next(2)]) == [seq]
            assert await events.next(2) == {"comment": "keep-alive"}


async def test_a_slow_client_reads_from_the_stream_and_misses_nothing(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False,
                               stream_client_queue=4) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key}) as r:
            events = await connect(opened(r))
            # the client reads nothing meanwhile: ~12 MB fill the sockets, the server waits, the mailbox fills
            sent = [await publish(js, org.id, "message.status", n, pad="x" * 200_000) for n in range(60)]
            await eventually(lambda: _overflowed(feeds[0], org.id))
            got = await events.events(60, timeout=10)
            assert sequences(got) == sent
            assert feeds[0].counts["replays"] >= 1
            more = await publish(js, org.id, "message.status", 99)  # and live again
            assert sequences([await events.event()]) == [more]


async def _overflowed(feed: LiveFeed, org: str) -> bool:
    return any(listener.overflowed for listener in feed.listeners.get(org, ()))


async def test_live_messages_the_feed_lost_are_read_from_the_stream(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        feed = feeds[0]
        async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key}) as r:
            events = await connect(opened(r))
            # the feed's subscription misses three events (as a slow consumer's drops or a reconnect would)
            await feed._sub.unsubscribe()
            lost = [await publish(js, org.id, "conversation.assigned", n) for n in range(3)]
            feed._sub = await feed.nc.subscribe(subjects.LIVE_ALL, cb=feed._on_msg)
            await feed.nc.flush()
            after = await publish(js, org.id, "conversation.assigned", 3)  # shows the hole
            assert sequences(await events.events(4)) == lost + [after]
            assert feed.counts["repairs"] == 1
            # lost with nothing after it: the audit finds it
            await feed._sub.unsubscribe()
            idle = [await publish(js, org.id, "message.status", n) for n in range(2)]
            feed._sub = await feed.nc.subscribe(subjects.LIVE_ALL, cb=feed._on_msg)
            assert sequences(await events.events(2)) == idle
        # each repair deletes its consumer once it has handed the events on (well before the 60 s
        # inactivity threshold would)
        assert await eventually(lambda: no_live_consumers(js), timeout=5.0)


async def test_resume_while_events_keep_coming(nats_url, database_url, feeds):
    """The replay and the live feed overlap (events stored while the client replays reach its mailbox
    too): each event exactly once, in order."""
    async with running_gateway(nats_url, database_url, with_conversations=False,
                               stream_client_queue=50) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        start = await publish(js, org.id, "conversation.assigned", -1)
        backlog = [await publish(js, org.id, "message.status", n) for n in range(600)]
        stored = list(backlog)

        async def keep_publishing():
            for n in range(200):
                stored.append(await publish(js, org.id, "message.status", 1000 + n))
                if n % 10 == 0:
                    await asyncio.sleep(0.002)

        publisher = asyncio.create_task(keep_publishing())
        async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key, "Last-Event-ID": str(start)}) as r:
            events = Events(r)
            got = await events.events(800, timeout=10)
            await publisher
        assert sequences(got) == stored


async def test_the_gateway_stops_with_streams_open(nats_url, database_url, feeds):
    """uvicorn waits for open responses when it stops: the feed ends every stream first (completed, not cut)."""
    async with httpx.AsyncClient(timeout=10) as outside:  # outlives the gateway
        async with running_gateway(nats_url, database_url, with_conversations=False) as (client, _, orgs):
            _, key = await orgs.create("Acme")
            r = await outside.send(outside.build_request("GET", f"{client.base_url}/v1/stream",
                                                         headers={"X-API-Key": key}), stream=True)
            events = await connect(opened(r))
            stopping = asyncio.get_running_loop().time()
        assert asyncio.get_running_loop().time() - stopping < REPLY  # not until the stream ends: never
        with pytest.raises(EOFError):
            await events.next(2)
        await r.aclose()


async def test_agents_and_viewers_get_conversations_and_messages_admins_everything(nats_url, database_url, feeds):
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        people = {}
        for role in ("agent", "viewer", "admin"):
            r = await client.post("/v1/users", headers={"X-API-Key": key},
                                  json={"email": f"{role}@acme.example", "name": role, "role": role})
            assert r.status_code == 201, r.text
            people[role] = {"X-API-Key": r.json()["api_key"]}
        r = await client.get("/v1/stream", params={"types": "sender.*"}, headers=people["viewer"])
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        async with client.stream("GET", "/v1/stream", params={"types": "*"}, headers=people["agent"]) as agent, \
                client.stream("GET", "/v1/stream", headers=people["viewer"]) as viewer, \
                client.stream("GET", "/v1/stream", params={"types": "*"}, headers=people["admin"]) as admin:
            agent, viewer, admin = (await connect(opened(agent)), await connect(opened(viewer)),
                                    await connect(opened(admin)))
            sent = {t: await publish(js, org.id, t) for t in ("sender.connected", "conversation.assigned",
                                                               "campaign.started", "message.received")}
            inbox = [sent["conversation.assigned"], sent["message.received"]]
            assert sequences(await agent.events(2)) == inbox
            assert sequences(await viewer.events(2)) == inbox
            assert sequences(await admin.events(4)) == sorted(sent.values())


async def _following(feed: LiveFeed) -> bool:
    return feed._sub is not None


async def _not_following(feed: LiveFeed) -> bool:
    return feed._sub is None


async def test_the_feed_follows_the_live_subject_only_while_it_has_clients(nats_url, database_url, feeds):
    """A gateway nobody streams from receives no event; a client that comes later still gets every
    event stored from its registration on."""
    async with running_gateway(nats_url, database_url, with_conversations=False) as (client, js, orgs):
        org, key = await orgs.create("Acme")
        feed = feeds[0]
        await publish(js, org.id, "conversation.assigned", 0)
        assert not await _following(feed) and feed.counts["events"] == 0
        for round_ in range(2):  # the first client subscribes; after the last has gone, again
            async with client.stream("GET", "/v1/stream", headers={"X-API-Key": key}) as r:
                events = await connect(opened(r))
                assert await _following(feed)
                sent = [await publish(js, org.id, "conversation.assigned", 10 * round_ + n) for n in range(3)]
                assert sequences(await events.events(3)) == sent
            await eventually(lambda: _not_following(feed))  # the audit lets go of it
            await publish(js, org.id, "message.status", round_)  # reaches no one
        assert feed.counts["repairs"] == 0  # taking up again is not a hole
