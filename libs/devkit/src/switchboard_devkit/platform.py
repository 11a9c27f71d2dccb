"""The whole platform as `make run` runs it — the dev supervisor with its embedded NATS and PostgreSQL
and every service — in a given directory, on free ports, for end-to-end tests and benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .services import load_services
from .testing.ports import server_ports

PORTS = ("SWITCHBOARD_DEV_NATS_PORT", "SWITCHBOARD_DEV_POSTGRES_PORT",
         *(spec.port_env for spec in load_services() if spec.port_env))


@dataclass
class Platform:
    base: str  # the gateway's URL
    key: str  # the dev API key
    endpoints: dict
    proc: subprocess.Popen
    data: Path
    log: Path


@contextlib.contextmanager
def running_platform(root: Path, env: dict[str, str] | None = None, timeout: float = 90.0):
    """Start the supervisor in `root` (data in `root/.data`, its output in `root/supervisor.log`), wait
    until the gateway's /readyz says every service is up, yield, then stop it all by its process group."""
    data, log_path = root / ".data", root / "supervisor.log"
    ports = dict(zip(PORTS, server_ports(len(PORTS)), strict=True))  # distinct: two servers never share one
    child_env = {k: v for k, v in os.environ.items() if k not in ("SWITCHBOARD_NATS_URL", "SWITCHBOARD_DATABASE_URL")}
    child_env.update({k: str(v) for k, v in ports.items()}, **(env or {}))
    log = open(log_path, "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([sys.executable, "-m", "switchboard_devkit", "run", "--data-dir", str(data)],
                            env=child_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{ports['SWITCHBOARD_GATEWAY_PORT']}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, log_path.read_text()[-4000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, log_path.read_text()[-4000:]
            time.sleep(0.3)
        yield Platform(base, (data / "dev-api-key").read_text().strip(),
                       json.loads((data / "endpoints.json").read_text()), proc, data, log_path)
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
