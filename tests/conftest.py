"""The platform as `make run` runs it, for end-to-end tests: the dev supervisor starts the embedded
NATS and PostgreSQL and every service as its own process (one platform per test module)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest

from switchboard_runtime.devinfra.ports import free_port

SERVICES_UP_TIMEOUT = 90


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    data = tmp_path_factory.mktemp("platform") / ".data"
    ports = {"SWITCHBOARD_DEV_NATS_PORT": free_port(), "SWITCHBOARD_DEV_POSTGRES_PORT": free_port(),
             "SWITCHBOARD_GATEWAY_PORT": free_port(), "SWITCHBOARD_INGEST_PORT": free_port(),
             "SWITCHBOARD_CAMPAIGNS_PORT": free_port()}
    env = {k: v for k, v in os.environ.items()
           if k not in ("SWITCHBOARD_NATS_URL", "SWITCHBOARD_DATABASE_URL")}
    env.update({k: str(v) for k, v in ports.items()})
    env["SWITCHBOARD_RECONNECT_BASE_SECONDS"] = "0.5"  # reconnection backoff starts at 0.5 s, not 5 s
    log = open(data.parent / "supervisor.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "switchboard_runtime.devinfra", "run",
                             "--data-dir", str(data)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{ports['SWITCHBOARD_GATEWAY_PORT']}"
    try:
        deadline = time.monotonic() + SERVICES_UP_TIMEOUT
        while True:
            assert proc.poll() is None, (data.parent / "supervisor.log").read_text()[-4000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (data.parent / "supervisor.log").read_text()[-4000:]
            time.sleep(0.3)
        key = (data / "dev-api-key").read_text().strip()
        endpoints = json.loads((data / "endpoints.json").read_text())
        yield {"base": base, "key": key, "endpoints": endpoints, "proc": proc, "data": data}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        pg = data / "pg"
        if pg.is_symlink():  # as root, PostgreSQL's data lives outside the tree: remove it too
            shutil.rmtree(pg.resolve().parent, ignore_errors=True)
