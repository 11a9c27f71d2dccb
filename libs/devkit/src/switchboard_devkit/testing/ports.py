"""Ports for the servers a test starts, picked below the kernel's ephemeral range.

A port is picked free, closed, and bound again by the server a moment later. Picked from the ephemeral
range (what binding port 0 gives), it can be taken in between by the local end of any outgoing
connection, which the kernel draws from the same range — and with the suite on several workers, each
opening connections by the hundred, that happens. Below the range no outgoing connection ever lands."""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 10_000
_random = random.SystemRandom()  # not the module's state, which a test may seed: workers must not draw alike


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def server_ports(n: int) -> list[int]:
    """`n` distinct ports that are free now, below the ephemeral range (held open while picked)."""
    top = _ephemeral_start()
    if top - LOWEST < 1000:  # a machine whose ephemeral range starts low: let the kernel choose
        top = 65_536
    held: list[socket.socket] = []
    try:
        for _ in range(n * 200):  # bounded: a few ports in use never exhaust thousands
            if len(held) == n:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", _random.randrange(LOWEST, top)))
            except OSError:
                s.close()
                continue
            held.append(s)
        if len(held) < n:
            raise RuntimeError(f"no {n} free ports between {LOWEST} and {top}")
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def server_port() -> int:
    return server_ports(1)[0]
