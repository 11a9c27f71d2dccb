"""Ports for the servers a test starts, picked below the kernel's ephemeral range.

A port is picked free, closed, and bound again by the server a moment later. Picked from the ephemeral
range (what binding port 0 gives), it can be taken in between by the local end of any outgoing
connection, which the kernel draws from the same range — and with the suite on several workers, each
opening connections by the hundred, that happens. Below the range no outgoing connection ever lands.

Nor does another worker's server: each pytest-xdist worker picks from a part of the range of its own
(`gw0` the first of PYTEST_XDIST_WORKER_COUNT parts), and a process never hands out a port it handed
out in the last ten minutes. Two workers drawing the same port, both finding it free, one binding it
first, once left the other's test talking to the first one's server (a webhook-ingest test got 200
from an ingest whose NATS was not the one it had frozen)."""

from __future__ import annotations

import os
import random
import socket
import time
from pathlib import Path

LOWEST = 10_000
RECENT_SECONDS = 600.0  # a port handed out is not handed out again by this process for this long
_random = random.SystemRandom()  # not the module's state, which a test may seed: workers must not draw alike
_handed: dict[int, float] = {}  # port → when this process handed it out (monotonic)


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def highest() -> int:
    """Where the ports test servers use end: the ephemeral range's start (a machine whose range starts
    low: the top)."""
    top = _ephemeral_start()
    return 65_536 if top - LOWEST < 1000 else top


def worker_range(low: int, top: int) -> tuple[int, int]:
    """This pytest-xdist worker's own part of [low, top) (all of it outside xdist)."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not (worker.startswith("gw") and worker[2:].isdigit() and count.isdigit() and int(count) > 1):
        return low, top
    index, parts = int(worker[2:]) % int(count), int(count)
    size = (top - low) // parts
    return low + index * size, low + (index + 1) * size


def server_ports(n: int) -> list[int]:
    """`n` distinct ports that are free now, below the ephemeral range, in this worker's part of it and
    not handed out lately (held open while picked)."""
    low, high = worker_range(LOWEST, highest())
    now = time.monotonic()
    for port in [p for p, at in _handed.items() if now - at > RECENT_SECONDS]:
        del _handed[port]
    held: list[socket.socket] = []
    try:
        for _ in range(n * 200):  # bounded: a few ports in use never exhaust thousands
            if len(held) == n:
                break
            port = _random.randrange(low, high)
            if port in _handed:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            held.append(s)
        if len(held) < n:
            raise RuntimeError(f"no {n} free ports between {low} and {high}")
        ports = [s.getsockname()[1] for s in held]
        _handed.update(dict.fromkeys(ports, now))
        return ports
    finally:
        for s in held:
            s.close()


def server_port() -> int:
    return server_ports(1)[0]
