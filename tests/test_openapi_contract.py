"""The one OpenAPI document says exactly what the API does: schemathesis runs every operation of the
gateway's merged `/openapi.json` — the gateway's own and those it forwards to the services — against the
platform as `make run` starts it, with every check, and any failure fails the test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

UPSTREAM_PATHS = {  # one path each upstream serves through the gateway
    "campaigns": ["/v1/campaigns", "/v1/campaigns/{campaign_id}", "/v1/broadcast-lists", "/v1/blocklist"],
    "conversations": ["/v1/messages", "/v1/conversations"],
    "webhooks": ["/v1/webhook-endpoints", "/v1/webhook-endpoints/{endpoint_id}/attempts", "/v1/audit/export"],
}
CONFIG = Path(__file__).with_name("schemathesis.toml")  # the operations whose answers the schema cannot tell
MAX_EXAMPLES = 12  # per operation and phase: about 3.5 minutes alone on 2 cores, 4 beside the other tests
# answers that never end (Server-Sent Events): schemathesis would wait on each until its request timeout;
# services/gateway/tests/test_stream.py checks what they answer (200 text/event-stream, 401, 403, 422)
ENDLESS = ("/v1/stream",)
# The run is split in six parts by path, run at once against the one platform: six schemathesis
# processes of one worker each. Its CPU work (building and drawing Hypothesis strategies) holds the
# GIL, so two worker threads in one process ran no faster than one, took a tenth more CPU and now and
# then crashed the tool (see TOOL_CRASH); processes run side by side.
PARTS = {"messages": r"^/v1/(conversations|messages)",
         "inbox": r"^/v1/(canned-responses|sla-policies|inbox-settings|stats)",
         "templates": r"^/v1/(templates|notification)",
         "campaigns": r"^/v1/(campaigns|broadcast-lists|blocklist)",
         "people": r"^/v1/(senders|users|teams|me)(/|$)"}
ANY_PART = "|".join(f"({regex})" for regex in PARTS.values())
PATHS = {**{name: ("--include-path-regex", regex) for name, regex in PARTS.items()},
         "others": ("--exclude-path-regex", ANY_PART)}


@pytest.fixture(scope="module")
def document(platform) -> dict:
    """The merged document once every upstream's part is in it (the services may still be starting)."""
    deadline = time.monotonic() + 20
    while True:
        doc = httpx.get(f"{platform['base']}/openapi.json", timeout=10).json()
        if not doc.get("x-switchboard-unavailable") or time.monotonic() > deadline:
            return doc
        time.sleep(0.5)


def test_the_document_covers_every_upstream(document):
    assert "x-switchboard-unavailable" not in document, document["x-switchboard-unavailable"]
    paths = document["paths"]
    for upstream, expected in UPSTREAM_PATHS.items():
        for path in expected:
            assert path in paths, f"{upstream}: {path} is not in the gateway's /openapi.json"
    create = paths["/v1/campaigns"]["post"]
    assert create["security"] == [{"ApiKey": []}]
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An organization's API key"}
    # what the gateway itself answers for a forwarded operation, with the error schema
    for status in ("401", "503"):
        assert create["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"}
    assert "Retry-After" in create["responses"]["503"]["headers"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("CreateCampaign")
    assert "CreateCampaign" in document["components"]["schemas"]
    # the forwarding routes stay out of it; the health probes need no key
    assert not any("{rest" in p for p in paths)
    assert "security" not in paths["/healthz"]["get"]


def test_docs_show_the_merged_document(platform):
    page = httpx.get(f"{platform['base']}/docs", timeout=10)
    assert page.status_code == 200 and "/openapi.json" in page.text


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("OPTIONS", "/v1/senders/abc", {"GET", "PATCH", "DELETE"}),  # three routes serve the path
    ("PUT", "/v1/senders", {"GET", "POST"}),
    ("OPTIONS", "/v1/campaigns", {"GET", "POST"}),  # the gateway forwards every method there
    ("OPTIONS", "/v1/campaigns/abc", {"GET", "PATCH", "DELETE"}),
    ("PUT", "/v1/campaigns/abc", {"GET", "PATCH", "DELETE"}),  # answered by the campaigns service itself
])
def test_a_405_names_every_method_of_the_path(platform, document, method, path, allowed):
    # `document`: once the gateway has every upstream's part, it knows every route of the path
    r = httpx.request(method, f"{platform['base']}{path}", headers={"X-API-Key": platform["key"]}, timeout=10)
    assert r.status_code == 405, r.text
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in r.headers["allow"].split(",")} - {"HEAD"} == allowed


@pytest.mark.timeout(900)  # about 150-250 s beside CPU-bound tests; up to three runs of a part when the tool crashes
def test_schemathesis_finds_nothing(platform, document, tmp_path):
    """The parts run at once, each a schemathesis process of its own, against the one platform."""
    base, key = platform["base"], platform["key"]
    # a simulator sender, so the operations on senders also meet one that exists
    created = httpx.post(f"{base}/v1/senders", headers={"X-API-Key": key}, timeout=30,
                         json={"name": "contract", "provider": "simulator"})
    assert created.status_code == 201, created.text
    with ThreadPoolExecutor(len(PATHS)) as pool:
        runs = dict(zip(PATHS, pool.map(lambda part: _part(base, key, tmp_path / part, part), PATHS)))
    problems = []
    for part, (run, reports, elapsed) in runs.items():
        summary = run.stdout[run.stdout.rfind("SUMMARY"):] if "SUMMARY" in run.stdout else run.stdout[-6000:]
        print(f"schemathesis [{part}] took {elapsed:.1f} s\n{summary}")
        mine = _operations(document, lambda path, part=part: path not in ENDLESS and _part_of(path) == part)
        if run.returncode != 0:
            problems.append(f"[{part}] " + "\n".join(_failures(reports)) + "\n\n" + run.stdout[-20000:]
                            + run.stderr[-4000:])
        elif not (mine > 10 and f"Selected: {mine}/" in run.stdout):
            problems.append(f"[{part}] selected other than its {mine} operations")
    assert not problems, "\n\n".join(problems)


def _part(base: str, key: str, tmp_path: Path, part: str) -> tuple[subprocess.CompletedProcess, Path, float]:
    st = Path(sys.executable).with_name("st")
    started = time.monotonic()
    reports = tmp_path / "first"
    run = _schemathesis(st, base, key, reports, PATHS[part])
    for attempt in range(2):  # the tool broke, not a check: again, twice at most (a failing check never is)
        if not _tool_crashed(run):
            break
        print(f"schemathesis [{part}] crashed (exit {run.returncode}); running it again\n{run.stdout[-2000:]}")
        reports = tmp_path / f"again-{attempt}"
        run = _schemathesis(st, base, key, reports, PATHS[part])
    return run, reports, time.monotonic() - started


# CPython 3.11 can fail to parse a lambda's source while two worker threads build Hypothesis strategies
# (hypothesis describes each `.filter(lambda …)`): the run then reports a Runtime Error, or the process
# dies of a signal. Neither is a finding about the API. (One worker per process leaves no second thread;
# kept for a crash of the tool all the same.)
TOOL_CRASH = "SystemError: AST constructor recursion depth mismatch"


def _tool_crashed(run: subprocess.CompletedProcess) -> bool:
    summary = run.stdout[run.stdout.rfind("SUMMARY"):]
    return run.returncode < 0 or (run.returncode != 0 and TOOL_CRASH in run.stdout and "Failures:" not in summary)


def _schemathesis(st: Path, base: str, key: str, tmp_path: Path, paths: tuple[str, str]) -> subprocess.CompletedProcess:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(st), "--config-file", str(CONFIG), "run", f"{base}/openapi.json", "-H", f"X-API-Key: {key}", "--checks", "all",
         "--max-examples", str(MAX_EXAMPLES), "--seed", "20261201", "--no-shrink", "--workers", "1",
         "--generation-database", "none",  # a fresh directory each run: nothing to read back
         "--request-timeout", "30", "--report", "junit", "--report-dir", str(tmp_path),
         *paths, *[arg for path in ENDLESS for arg in ("--exclude-path", path)]],
        capture_output=True, text=True, timeout=540, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "openapi_formats",  # tests/openapi_formats.py
             "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])})


def _failures(report_dir: Path) -> list[str]:
    """`<operation>: <checks>` for every failing test case of the run's JUnit report."""
    out = []
    for report in report_dir.glob("junit*.xml"):
        for case in ElementTree.parse(report).iter("testcase"):
            for failure in (c for c in case if c.tag in ("failure", "error")):
                first = (failure.get("message") or failure.text or "").strip().splitlines()[:1]
                out.append(f"{case.get('name')}: {first[0][:200] if first else failure.tag}")
    return sorted(out)


def _part_of(path: str) -> str:
    return next((name for name, regex in PARTS.items() if re.match(regex, path)), "others")


def _operations(document: dict, only=lambda path: True) -> int:
    return sum(1 for path, item in document["paths"].items() if only(path) for m in item
               if m in ("get", "put", "post", "delete", "patch", "options", "head", "trace"))
