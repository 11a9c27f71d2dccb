"""`make run`'s supervisor starts NATS, then PostgreSQL: when PostgreSQL does not start, the NATS server
it had started is stopped, not left holding its port (the next `make run` would find it taken)."""

from __future__ import annotations

import pytest

from switchboard_devkit.ports import port_open
from switchboard_devkit.supervisor import Supervisor
from switchboard_devkit.testing.ports import server_ports


def test_a_postgres_that_does_not_start_leaves_no_nats_running(tmp_path, monkeypatch):
    nats_port, pg_port = server_ports(2)
    monkeypatch.delenv("SWITCHBOARD_NATS_URL", raising=False)
    monkeypatch.delenv("SWITCHBOARD_DATABASE_URL", raising=False)
    monkeypatch.setenv("SWITCHBOARD_DEV_NATS_PORT", str(nats_port))
    monkeypatch.setenv("SWITCHBOARD_DEV_POSTGRES_PORT", str(pg_port))
    (tmp_path / "pg").write_text("a file where the data directory goes\n")  # PostgreSQL cannot start

    supervisor = Supervisor(tmp_path, [])
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever PostgreSQL's start raises
            supervisor.start_infrastructure()
        assert supervisor.nats is not None and supervisor.nats.process is None  # started, then stopped
        assert not port_open(nats_port)
    finally:
        supervisor.stop_infrastructure()  # whatever this test found, it leaves no server behind
