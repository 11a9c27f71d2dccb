"""CPU time of the platform's processes, by component, read from /proc (Linux): where a benchmark's
CPU goes. A component is a service (`switchboard_<name>.main`), `nats-server` or `postgres` (every
backend together)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _component(pid: str) -> str | None:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    for part in cmdline:
        if part.startswith(b"switchboard_") and part.endswith(b".main"):
            return part[len(b"switchboard_"):-len(b".main")].decode()
    exe = os.path.basename(cmdline[0].decode(errors="replace")) if cmdline and cmdline[0] else ""
    if "nats-server" in exe:
        return "nats"
    if exe.startswith("postgres") or exe.startswith("postmaster"):
        return "postgres"
    return None


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, the rest of /proc/pid/stat after "pid (comm) ")."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:]
        found[int(pid)] = (int(rest.split()[1]), rest)
    return found


def cpu_seconds(root: int, markers: tuple[str, ...] = ()) -> dict[str, float]:
    """CPU seconds (user + system, with children already reaped) so far, by component, of `root`'s
    process tree and of the trees whose command line names one of `markers` (PostgreSQL daemonizes
    out of the supervisor's tree: its data directory finds it)."""
    procs = _processes()
    roots = {root}
    for pid in procs:
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            if any(m in cmdline for m in markers):
                roots.add(pid)
    totals: dict[str, float] = {}
    for pid, (_, rest) in procs.items():
        ancestor, hops = pid, 0
        while ancestor not in roots and ancestor in procs and hops < 64:
            ancestor, hops = procs[ancestor][0], hops + 1
        if ancestor not in roots:
            continue
        name = _component(str(pid))
        if name is None:
            continue
        utime, stime, cutime, cstime = (int(x) for x in rest.split()[11:15])
        totals[name] = totals.get(name, 0.0) + (utime + stime + cutime + cstime) / TICK
    return totals


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds spent by each component between two readings (a process that exited between
    them is not counted, unless its parent reaped it)."""
    return {k: round(after[k] - before.get(k, 0.0), 2) for k in sorted(after)}
