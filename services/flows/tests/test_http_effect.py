"""The http node's request against a real local HTTP server (raw HTTP/1.1 on asyncio, 127.0.0.1): JSON
answers, retries on 5xx / timeouts / refused connections but not on 4xx, the same Idempotency-Key on
every attempt, a hanging server that delays nobody else, capped bodies, redirects not followed, and the
outbound guard refusing our own addresses before any request is made."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest

from switchboard_devkit.testing.ports import server_port
from switchboard_flows.effects.http_call import BODY_LIMIT, HttpCaller, HttpRequest

HANG_SECONDS = 60  # far longer than any timeout here; the server's teardown cancels it


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def _response(status: int, payload: bytes, content_type: str, extra: str = "") -> bytes:
    head = (f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n"
            f"Connection: close\r\n{extra}\r\n")
    return head.encode() + payload


class FakeServer:
    """Answers by the path's first segment; records every request it reads."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.hits: Counter[str] = Counter()
        self.tasks: set[asyncio.Task] = set()
        self.url = ""

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.tasks.add(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = dict((k.strip().lower(), v.strip()) for k, v in (line.split(":", 1) for line in head[1:] if line))
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Seen(method, path, headers, body))
            self.hits[path] += 1
            writer.write(await self.answer(self.requests[-1], self.hits[path]))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.tasks.discard(task)

    async def answer(self, seen: Seen, hit: int) -> bytes:
        kind = seen.path.split("/")[1]
        if kind == "json":
            return _response(200, b'{"hello": "world", "n": [1, 2]}', "application/json")
        if kind == "text":
            return _response(200, b"plain words, not JSON", "text/plain; charset=utf-8")
        if kind == "flaky":  # 500 the first time, 200 after
            return (_response(500, b'{"error": "try again"}', "application/json") if hit == 1
                    else _response(200, json.dumps({"attempt": hit}).encode(), "application/json"))
        if kind == "down":
            return _response(503, b"unavailable", "text/plain")
        if kind == "hang":
            await asyncio.sleep(HANG_SECONDS)
            return _response(200, b"too late", "text/plain")
        if kind == "big":
            return _response(200, b"x" * (BODY_LIMIT + 10_000), "text/plain")
        if kind == "redirect":
            return _response(302, b"", "text/plain", "Location: /json/after-redirect\r\n")
        if kind == "echo":
            echoed = {"method": seen.method, "headers": seen.headers, "body": seen.body.decode()}
            return _response(200, json.dumps(echoed).encode(), "application/json")
        return _response(404, b'{"error": "no such thing"}', "application/json")


@pytest.fixture(scope="module")
async def fake():
    server = FakeServer()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    try:
        yield server
    finally:
        listening.close()
        for task in list(server.tasks):
            task.cancel()
        await asyncio.gather(*server.tasks, return_exceptions=True)
        await listening.wait_closed()


@pytest.fixture(scope="module")
async def caller():
    http = HttpCaller(allow_private=True, backoff_seconds=0.01)  # the operator allows loopback here
    yield http
    await http.close()


@pytest.fixture(scope="module")
async def guarded():
    http = HttpCaller(allow_private=False, backoff_seconds=0.01)
    yield http
    await http.close()


def unique(kind: str) -> str:
    return f"/{kind}/{uuid.uuid4().hex}"


def get(url: str, **kwargs) -> HttpRequest:
    return HttpRequest(method="GET", url=url, headers={}, body=None, **kwargs)


async def test_a_json_answer_is_a_success_with_its_json(fake, caller) -> None:
    outcome = await caller.call(get(f"{fake.url}/json"))
    assert (outcome.ok, outcome.status, outcome.error, outcome.attempts) == (True, 200, None, 1)
    assert outcome.json == {"hello": "world", "n": [1, 2]}
    assert json.loads(outcome.body) == outcome.json and not outcome.truncated


async def test_a_500_is_retried_with_the_same_idempotency_key(fake, caller) -> None:
    path = unique("flaky")
    outcome = await caller.call(get(fake.url + path, idempotency_key="exec-1:node-7"))
    assert (outcome.ok, outcome.status, outcome.attempts, outcome.json) == (True, 200, 2, {"attempt": 2})
    keys = [r.headers.get("idempotency-key") for r in fake.seen(path)]
    assert keys == ["exec-1:node-7", "exec-1:node-7"]


async def test_a_server_failing_every_time_is_tried_retries_plus_one_times(fake, caller) -> None:
    path = unique("down")
    outcome = await caller.call(get(fake.url + path, retries=2))
    assert (outcome.ok, outcome.status, outcome.attempts, outcome.body) == (False, 503, 3, "unavailable")
    assert outcome.error == "HTTP 503 (3 attempts)" and outcome.json is None
    assert len(fake.seen(path)) == 3


async def test_a_404_is_a_failure_and_is_not_retried(fake, caller) -> None:
    path = unique("missing")
    outcome = await caller.call(get(fake.url + path, retries=3))
    assert (outcome.ok, outcome.status, outcome.attempts, outcome.error) == (False, 404, 1, "HTTP 404")
    assert outcome.json == {"error": "no such thing"}
    assert len(fake.seen(path)) == 1


async def test_a_hanging_server_times_out_and_delays_no_other_call(fake, caller) -> None:
    slow = asyncio.create_task(caller.call(get(fake.url + unique("hang"), timeout_seconds=2.0, retries=0)))
    await asyncio.sleep(0.05)  # the slow request is in flight
    fast = await caller.call(get(f"{fake.url}/json"))
    assert fast.ok and not slow.done()  # answered while the other still waits
    outcome = await slow
    assert (outcome.ok, outcome.status, outcome.attempts) == (False, None, 1)
    assert outcome.error == "timed out after 2 s"
    assert outcome.duration_ms >= 1990 and fast.duration_ms < outcome.duration_ms


async def test_the_whole_call_with_its_retries_is_bounded(fake, caller) -> None:
    started = time.monotonic()
    outcome = await caller.call(get(fake.url + unique("hang"), timeout_seconds=0.3, retries=2))
    assert (outcome.ok, outcome.status, outcome.attempts) == (False, None, 3)
    assert outcome.error == "timed out after 0.3 s (3 attempts)"
    assert 890 <= outcome.duration_ms and time.monotonic() - started < 15  # ~0.9 s, never stuck


async def test_a_refused_connection_is_retried_then_fails(caller) -> None:
    outcome = await caller.call(get(f"http://127.0.0.1:{server_port()}/json", retries=1))  # nothing listens
    assert (outcome.ok, outcome.status, outcome.attempts) == (False, None, 2)
    assert outcome.error.startswith("could not reach the server") and outcome.error.endswith("(2 attempts)")


async def test_a_body_that_is_not_json_is_text_only(fake, caller) -> None:
    outcome = await caller.call(get(f"{fake.url}/text"))
    assert (outcome.ok, outcome.body, outcome.json) == (True, "plain words, not JSON", None)


async def test_a_long_body_is_cut_at_the_limit(fake, caller) -> None:
    outcome = await caller.call(get(f"{fake.url}/big"))
    assert outcome.ok and outcome.truncated and len(outcome.body) == BODY_LIMIT and outcome.json is None


async def test_a_redirect_is_not_followed(fake, caller) -> None:
    outcome = await caller.call(get(fake.url + unique("redirect")))
    assert (outcome.ok, outcome.status, outcome.attempts) == (False, 302, 1)
    assert "redirects are not followed" in outcome.error and "/json/after-redirect" in outcome.error
    assert fake.seen("/json/after-redirect") == []


async def test_method_headers_and_json_body_are_sent_and_a_key_the_flow_set_is_kept(fake, caller) -> None:
    request = HttpRequest(method="post", url=f"{fake.url}/echo", headers={"X-Flow": "yes", "idempotency-key": "mine"},
                          body={"name": "Ada", "tags": ["a", "ü"]}, idempotency_key="ours")
    outcome = await caller.call(request)
    assert outcome.ok and outcome.json["method"] == "POST"
    headers = outcome.json["headers"]
    assert headers["x-flow"] == "yes" and headers["idempotency-key"] == "mine"
    assert headers["content-type"] == "application/json"
    assert json.loads(outcome.json["body"]) == {"name": "Ada", "tags": ["a", "ü"]}


async def test_the_caller_key_is_sent_when_the_flow_set_none(fake, caller) -> None:
    outcome = await caller.call(get(f"{fake.url}/echo", idempotency_key="run-9:step-2"))
    assert outcome.json["headers"]["idempotency-key"] == "run-9:step-2"


@pytest.mark.parametrize("headers", [{"X-Bad": "a\r\nInjected: yes"}, {"Bad Name": "v"}, {"X-Nul": "a\x00b"}])
async def test_headers_that_would_inject_are_refused_before_any_request(fake, caller, headers) -> None:
    before = len(fake.requests)
    outcome = await caller.call(HttpRequest(method="GET", url=f"{fake.url}/json", headers=headers, body=None))
    assert (outcome.ok, outcome.status, outcome.attempts) == (False, None, 0)
    assert len(fake.requests) == before


async def test_a_body_that_cannot_be_json_fails_without_a_request(fake, caller) -> None:
    outcome = await caller.call(HttpRequest(method="POST", url=f"{fake.url}/echo", headers={}, body={"x": {1, 2}}))
    assert (outcome.ok, outcome.attempts) == (False, 0) and outcome.error.startswith("the body is not JSON")


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/json", "http://localhost:{port}/json",
                                    "http://[::1]:{port}/json", "http://0.0.0.0:{port}/json",
                                    "http://[::ffff:127.0.0.1]:{port}/json", "http://127.1:{port}/json",
                                    "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                                    "http://100.64.0.1/", "http://[fd00::1]/"])
async def test_our_own_addresses_are_refused_without_a_request(fake, guarded, target: str) -> None:
    before = len(fake.requests)
    url = target.format(port=fake.url.rsplit(":", 1)[1])
    outcome = await guarded.call(get(url, timeout_seconds=2.0, retries=2))
    assert (outcome.ok, outcome.status, outcome.attempts) == (False, None, 1)  # refused: not retried
    assert outcome.error.startswith("refused: ") and "not a public address" in outcome.error
    assert len(fake.requests) == before


@pytest.mark.parametrize("url", ["ftp://example.com/file", "file:///etc/passwd", "example.com/no-scheme"])
async def test_only_http_and_https_are_called(guarded, url: str) -> None:
    outcome = await guarded.call(get(url))
    assert (outcome.ok, outcome.status, outcome.attempts) == (False, None, 0)
    assert "only http and https" in outcome.error


async def test_an_unknown_method_is_refused(fake, caller) -> None:
    outcome = await caller.call(HttpRequest(method="TRACE", url=f"{fake.url}/json", headers={}, body=None))
    assert (outcome.ok, outcome.attempts) == (False, 0) and "TRACE" in outcome.error
