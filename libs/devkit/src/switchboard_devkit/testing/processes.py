"""Services as processes of their own, for the crash tests: started on a test's NATS and PostgreSQL,
awaited until their readiness heartbeat is in `sb_services`, SIGKILLed or stopped by their PID."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from .plugin import TEST_SECRET_KEY

SERVICES_BUCKET = "sb_services"  # the readiness heartbeats (switchboard_contracts.streams.SERVICES)


def start(module: str, nats_url: str, database_url: str, **extra: str) -> subprocess.Popen:
    """`python -m module` in a session of its own (its children die with it), quiet, beating every 0.5 s."""
    env = {**os.environ, "SWITCHBOARD_NATS_URL": nats_url, "SWITCHBOARD_DATABASE_URL": database_url,
           "SWITCHBOARD_SECRET_KEY": TEST_SECRET_KEY, "SWITCHBOARD_HEARTBEAT_SECONDS": "0.5",
           "SWITCHBOARD_LOG_LEVEL": "WARNING", "SWITCHBOARD_HEALTH_PORT": "0", **extra}
    return subprocess.Popen([sys.executable, "-m", module], env=env, start_new_session=True)


async def ready(js, proc: subprocess.Popen, service: str) -> None:
    """Until the process's heartbeat is in `sb_services` (it beats once everything is started)."""
    key = f"{service}.{os.uname().nodename}-{proc.pid}"
    for _ in range(600):
        assert proc.poll() is None, f"{service} exited with {proc.returncode}"
        try:
            if key in await (await js.key_value(SERVICES_BUCKET)).keys():
                return
        except Exception:  # noqa: BLE001 - no bucket or no keys yet
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{service} never reported ready")


def sigkill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


async def stop(proc: subprocess.Popen | None) -> None:
    """SIGINT (a clean stop), then SIGKILL if it has not stopped within 15 s."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)
    for _ in range(150):
        if proc.poll() is not None:
            return
        await asyncio.sleep(0.1)
    sigkill(proc)
