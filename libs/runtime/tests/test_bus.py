"""The Bus on a real NATS server: one named connection that reconnects without end, a JetStream context
that names that connection, the platform's streams declared; connection errors as faststream handled
them (a refusal no retry cures ends the attempt, other NATS errors of a live connection are warnings)."""

from __future__ import annotations

import pytest
from nats import errors

from switchboard_runtime.messaging import bus as bus_module
from switchboard_runtime.messaging.bus import Bus
from switchboard_runtime.settings import ServiceSettings


async def test_connect_opens_one_named_connection_with_its_jetstream_and_streams(nats_url: str):
    bus = await Bus(ServiceSettings(nats_url=nats_url), "tester").connect()
    try:
        assert bus.connected and bus.js.connection is bus.nc and bus.publisher.nc is bus.nc
        assert bus.nc.options["name"] == "switchboard-tester"
        assert bus.nc.options["max_reconnect_attempts"] == -1 and bus.nc.options["reconnect_time_wait"] == 1
        assert "SWITCHBOARD_EVENTS" in [info.config.name for info in await bus.js.streams_info()]
    finally:
        await bus.close()
    assert not bus.connected


class Recorder:
    def __init__(self):
        self.lines: list[tuple[str, dict]] = []

    def warning(self, event: str, **fields) -> None:
        self.lines.append((event, fields))


async def test_a_refusal_no_retry_cures_is_raised_other_errors_are_warnings(nats_url: str, monkeypatch):
    log = Recorder()
    monkeypatch.setattr(bus_module, "log", log)
    bus = Bus(ServiceSettings(nats_url=nats_url), "tester")
    with pytest.raises(errors.Error):
        await bus._on_error(errors.Error("nats: 'Authorization Violation'"))
    await bus._on_error(errors.Error("nats: unexpected EOF"))  # not connected yet: not logged
    await bus._on_error(OSError("connection refused"))  # a socket error: nats-py retries, not logged
    await bus.connect()
    try:
        await bus._on_error(errors.UnexpectedEOF())
    finally:
        await bus.close()
    assert log.lines == [("NATS connection broken",
                          {"connection": "switchboard-tester", "error": repr(errors.UnexpectedEOF())})]
