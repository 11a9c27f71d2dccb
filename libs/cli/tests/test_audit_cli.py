"""`switchboard events export-audit` and `verify` (the first export as the console script) against a real NATS: the
file verifies; a changed byte, a removed record, two swapped records, a cut end and a wrong key each
make `verify` exit non-zero naming what was touched. NATS and the key are found in `.data` too."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from typing import NamedTuple

from typer.testing import CliRunner

from switchboard_cli.main import app
from switchboard_runtime import audit

from .helpers import SCRIPT, env, invoke, publish

KEY = "cli-audit-test-key"
runner = CliRunner()


class Verified(NamedTuple):
    returncode: int
    stderr: str  # the CLI's output (its errors go to stderr)


def run(*args: str, cwd=None, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, "events", *args], env=env(**extra), cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_export_and_verify_and_every_kind_of_tampering(nats_url: str, tmp_path) -> None:
    publish(nats_url, 30)
    time.sleep(0.05)
    since = datetime.now(UTC).isoformat()
    published = publish(nats_url, 100, offset=30)
    time.sleep(0.05)
    until = datetime.now(UTC).isoformat()
    publish(nats_url, 20, offset=200)
    path = tmp_path / "audit.jsonl"
    done = run("export-audit", "--org", "acme", "--since", since, "--until", until, "--out", str(path), "-q",
               SWITCHBOARD_NATS_URL=nats_url, SWITCHBOARD_SECRET_KEY=KEY)
    assert done.returncode == 0, done.stderr
    assert "exported to" in done.stdout and "100 events" in done.stdout
    lines = path.read_bytes().split(b"\n")[:-1]
    assert len(lines) == 102
    header = json.loads(lines[0])
    assert header["org"] == "acme" and header["since"].startswith(since[:19])
    records = [audit.parse_record(line, i) for i, line in enumerate(lines[1:-1], 1)]
    assert [(r.sequence, r.event) for r in records] == [(s, b) for s, _, b in published["acme"]]

    ok = invoke("verify", str(path), SWITCHBOARD_SECRET_KEY=KEY)
    assert ok.returncode == 0 and "ok: 100 records of acme" in ok.stdout, ok.stdout + ok.stderr
    public = invoke("audit-key", SWITCHBOARD_SECRET_KEY=KEY).stdout.split()[0]
    assert public == audit.public_key_of(KEY)
    assert invoke("verify", str(path), "--public-key", public).returncode == 0

    def tampered(name: str, new_lines: list[bytes], key: str = KEY) -> Verified:
        p = tmp_path / f"{name}.jsonl"
        p.write_bytes(b"".join(line + b"\n" for line in new_lines))
        r = runner.invoke(app, ["events", "verify", str(p)], env={"SWITCHBOARD_SECRET_KEY": key, "COLUMNS": "300"})
        return Verified(r.exit_code, r.output)

    seq = {i: published["acme"][i - 1][0] for i in range(1, 101)}
    changed = lines[:]
    changed[42] = changed[42].replace(b"hi ", b"Hi ", 1)
    assert changed[42] != lines[42]
    r = tampered("changed", changed)
    assert r.returncode == 1 and f"record 42 (sequence {seq[42]}): its event was changed" in r.stderr, r.stderr

    removed = lines[:17] + lines[18:]  # record 17
    r = tampered("removed", removed)
    assert r.returncode == 1 and "record 17 was removed" in r.stderr and f"sequence {seq[18]}" in r.stderr

    swapped = lines[:]
    swapped[60], swapped[61] = swapped[61], swapped[60]
    r = tampered("swapped", swapped)
    assert r.returncode == 1 and f"record 60 (sequence {seq[61]}): out of order" in r.stderr

    r = tampered("cut", lines[:-6] + lines[-1:])  # records 96-100 gone, the manifest kept
    assert r.returncode == 1 and "records 96–100 are missing" in r.stderr
    r = tampered("cut-manifest", lines[:-1])
    assert r.returncode == 1 and "no manifest" in r.stderr

    r = tampered("wrong-key", lines, key="another-platform")
    assert r.returncode == 1 and "signature does not verify" in r.stderr
    assert invoke("verify", str(path)).returncode == 2  # no key at all: cannot say


def test_nats_and_the_key_are_found_in_the_data_dir(nats_url: str, tmp_path) -> None:
    published = publish(nats_url, 20)
    data = tmp_path / ".data"
    data.mkdir()
    (data / "endpoints.json").write_text(json.dumps({"nats": nats_url, "gateway": "http://127.0.0.1:1"}))
    (data / "secret-key").write_text(KEY + "\n")
    path = tmp_path / "a.jsonl"
    done = invoke("export-audit", "--org", "beta", "--since", "1h", "--out", str(path), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert invoke("verify", str(path), cwd=tmp_path).returncode == 0
    assert audit.verify_lines(path.read_bytes().split(b"\n"), secret_key=KEY).records == 20
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert invoke("verify", str(path), "--data-dir", str(data), cwd=elsewhere).returncode == 0
    out = tmp_path / "r.jsonl"
    r = runner.invoke(app, ["events", "replay", "--org", "beta", "--out", str(out), "-q", "--data-dir", str(data)],
                      env={"SWITCHBOARD_NATS_URL": ""})
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == b"".join(b + b"\n" for _, _, b in published["beta"])
    no_key = invoke("export-audit", "--org", "beta", "--since", "1h", "--out", str(tmp_path / "b.jsonl"),
                 SWITCHBOARD_NATS_URL=nats_url, cwd=elsewhere)
    assert no_key.returncode == 2 and "no secret key" in no_key.stderr
