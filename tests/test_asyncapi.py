"""The committed contract documents are what `make contracts` writes now (they never go stale), and the
AsyncAPI document lists every public event, the live subject and the ERP inbound subject."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from switchboard_contracts import catalog
from switchboard_runtime import contract_docs

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "contracts"


def test_the_json_schemas_are_current(tmp_path):
    written = {p.relative_to(tmp_path): p.read_text() for p in contract_docs.write(tmp_path)}
    committed = {p.relative_to(DOCS): p.read_text() for p in DOCS.rglob("*.schema.json")}
    assert written == committed, "docs/contracts is stale: run `make contracts`"


def test_the_asyncapi_document_is_current_and_complete(tmp_path):
    out = tmp_path / "asyncapi.json"
    faststream = Path(sys.executable).with_name("faststream")
    subprocess.run([str(faststream), "docs", "gen", "switchboard_runtime.contract_docs:asyncapi_app", "--out", str(out)],
                   check=True, capture_output=True, timeout=120, cwd=tmp_path)
    generated = json.loads(out.read_text())
    assert generated == json.loads((DOCS / "asyncapi.json").read_text()), "asyncapi.json is stale: run `make contracts`"
    channels = generated["channels"]
    for spec in catalog.EVENTS:
        assert channels[spec.type]["address"] == f"sb.evt.{{orgid}}.{spec.entity}.{spec.name}"
    assert channels[contract_docs.LIVE_TITLE]["address"] == "sb.live.{orgid}.{entity}.{event}"
    assert channels[contract_docs.ERP_TITLE]["address"] == "erp.evt.{orgid}.{entity}.{event}"
    actions = {name: op["action"] for name, op in generated["operations"].items()}
    assert actions[contract_docs.ERP_TITLE] == "receive" and actions[contract_docs.LIVE_TITLE] == "send"
    assert {spec.type for spec in catalog.EVENTS} | {contract_docs.LIVE_TITLE, contract_docs.ERP_TITLE} == set(channels)
