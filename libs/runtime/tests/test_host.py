"""The service host against a real NATS server: parts start in the order they were added and stop in
reverse, a failed wiring or start leaves nothing open, and a background loop that dies is logged and
started again."""

from __future__ import annotations

import asyncio

import pytest

from switchboard_runtime.host import Host, hosted
from switchboard_runtime.settings import ServiceSettings


class Part:
    def __init__(self, name: str, journal: list[str], fail_start: bool = False):
        self.name, self.journal, self.fail_start = name, journal, fail_start

    async def start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.journal.append(f"start {self.name}")

    def stop(self) -> None:  # a synchronous stop is awaited the same way
        self.journal.append(f"stop {self.name}")


def _settings(nats_url: str) -> ServiceSettings:
    return ServiceSettings(nats_url=nats_url, log_format="console", heartbeat_seconds=0.05)


async def test_parts_start_in_order_and_stop_in_reverse(nats_url: str) -> None:
    journal: list[str] = []
    stop = asyncio.Event()
    buses = []

    async def wire(host: Host, settings: ServiceSettings) -> None:
        bus = await host.bus()
        buses.append(bus)
        host.closing(object(), lambda: journal.append("close resource"), "resource")
        host.add(Part("a", journal))
        host.step("restore", lambda: journal.append("step restore"))
        host.add(Part("b", journal))
        host.step("ready", stop.set)  # the stop signal arrives once all is up

    await asyncio.wait_for(hosted("t", ServiceSettings, wire)(stop, _settings(nats_url)), 20)
    assert journal == ["start a", "step restore", "start b", "stop b", "stop a", "close resource"]
    assert not buses[0].connected  # the bus, opened first, was closed last


async def test_a_failed_start_stops_what_started_and_closes_what_opened(nats_url: str) -> None:
    journal: list[str] = []
    buses = []

    async def wire(host: Host, settings: ServiceSettings) -> None:
        buses.append(await host.bus())
        host.add(Part("a", journal))
        host.add(Part("b", journal, fail_start=True))
        host.add(Part("c", journal))

    with pytest.raises(RuntimeError, match="b cannot start"):
        await asyncio.wait_for(hosted("t", ServiceSettings, wire)(asyncio.Event(), _settings(nats_url)), 20)
    assert journal == ["start a", "stop a"]  # c never started, so it is not stopped
    assert not buses[0].connected


async def test_a_failed_wiring_closes_what_it_had_opened(nats_url: str) -> None:
    buses = []

    async def wire(host: Host, settings: ServiceSettings) -> None:
        buses.append(await host.bus())
        raise ValueError("a setting is wrong")

    with pytest.raises(ValueError, match="a setting is wrong"):
        await hosted("t", ServiceSettings, wire)(asyncio.Event(), _settings(nats_url))
    assert buses and not buses[0].connected


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict]] = []

    def __getattr__(self, level: str):
        return lambda message, **fields: self.lines.append((level, message, fields))


async def test_a_dying_task_is_logged_and_started_again(nats_url: str) -> None:
    runs: list[int] = []
    stop = asyncio.Event()
    recorder = Recorder()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise ConnectionError(f"away #{len(runs)}")
        stop.set()
        await asyncio.Event().wait()  # the third run keeps going until the stop cancels it

    async def wire(host: Host, settings: ServiceSettings) -> None:
        host.log = recorder
        await host.bus()
        host.task("flaky loop", flaky, pause=0.01)

    await asyncio.wait_for(hosted("t", ServiceSettings, wire)(stop, _settings(nats_url)), 20)
    assert len(runs) == 3
    failures = [line for line in recorder.lines if line[0] == "error"]
    assert [f[1] for f in failures] == ["flaky loop failed; restarting it"] * 2
    assert failures[0][2]["error"] == "ConnectionError('away #1')"


async def test_readiness_follows_the_bus_and_the_service_checks(nats_url: str) -> None:
    host = Host("t", _settings(nats_url))
    try:
        await host.bus()
        loaded = asyncio.Event()
        host.ready_checks["routes"] = loaded.is_set
        assert await host.readiness() == {"nats": True, "routes": False}
        loaded.set()
        assert await host.readiness() == {"nats": True, "routes": True}
    finally:
        await host.close()
    assert await host.readiness() == {"nats": False, "routes": True}
