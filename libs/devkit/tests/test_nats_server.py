"""The test NATS server knows it is its own that answers on its port: a port picked free and taken by
another process before the server bound it is refused (PortTaken), never used."""

from __future__ import annotations

import socket

import pytest

from switchboard_devkit.nats_server import NatsServer, PortTaken, server_name_on
from switchboard_devkit.testing.ports import server_port


def test_a_server_answers_with_its_own_name(tmp_path):
    server = NatsServer(tmp_path / "a", port=server_port()).start()
    try:
        assert (server_name_on(server.port) or "").startswith("switchboard-")
    finally:
        server.stop()


def test_a_port_another_process_listens_on_is_refused(tmp_path):
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # something that is no NATS server
    other.bind(("127.0.0.1", 0))
    other.listen()
    try:
        with pytest.raises(PortTaken):
            NatsServer(tmp_path / "b", port=other.getsockname()[1]).start()
    finally:
        other.close()
    first = NatsServer(tmp_path / "c", port=server_port()).start()
    try:  # another NATS server on the port is refused too
        with pytest.raises(PortTaken):
            NatsServer(tmp_path / "d", port=first.port).start()
        assert server_name_on(first.port) is not None  # and the first one is left running
    finally:
        first.stop()
