"""The platform as `make run` runs it, for the end-to-end tests.

Starting it (PostgreSQL's initdb, NATS, five service processes) costs more than most modules' tests, so
a test process starts one when a test first needs it and every module that only drives it through the
API shares it, each module as an organization of its own (`platform`: a fresh organization and API
key): what a module creates — senders, messages, campaigns, conversations, blocklist entries, events
under `sb.evt.<org>` — is invisible to every other module, as another organization's resources are to
any client. A test that stops the platform says so (`stoppable_platform`); it runs after the others
(the root conftest.py orders them), and whoever needs the platform after it gets a new one. Once the
next test to run needs no platform, the platform is stopped, so none idles through the rest of the run."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from switchboard_devkit.platform import Platform, running_platform
from switchboard_devkit.testing.ports import server_ports

SMTP_PORT = server_ports(1)[0]  # where a test module that needs one runs its SMTP server (aiosmtpd)
ENV = {"SWITCHBOARD_RECONNECT_BASE_SECONDS": "0.5",  # reconnection backoff starts at 0.5 s, not 5 s
       "SWITCHBOARD_SMTP_HOST": "127.0.0.1", "SWITCHBOARD_SMTP_PORT": str(SMTP_PORT)}  # flows' e-mail nodes
FIXTURES = {"platform", "stoppable_platform"}  # the tests that drive the platform ask for one of these


class Platforms:
    """This test process's platform: started on demand, started again if a test stopped it."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self.tmp_path_factory = tmp_path_factory
        self.current: Platform | None = None
        self._stack = contextlib.ExitStack()

    def running(self) -> Platform:
        if self.current is not None and self.current.proc.poll() is not None:
            self.stop()  # stopped by a test: clean up after it, then start another
        if self.current is None:
            root = self.tmp_path_factory.mktemp("platform")
            self.current = self._stack.enter_context(running_platform(root, ENV))
        return self.current

    def stop(self) -> None:
        self._stack.close()  # running_platform's own cleanup: SIGINT, wait, SIGKILL if it hangs
        self._stack, self.current = contextlib.ExitStack(), None


def _as_dict(p: Platform, key: str) -> dict:
    return {"base": p.base, "key": key, "endpoints": p.endpoints, "proc": p.proc, "data": p.data,
            "smtp_port": SMTP_PORT}


def _new_organization(p: Platform, name: str) -> str:
    """A new organization on the running platform, as the operator command `create-org` makes one;
    returns its API key."""
    from switchboard_gateway.cli import create_org
    from switchboard_gateway.settings import GatewaySettings

    settings = GatewaySettings(database_url=p.endpoints["database"], nats_url=p.endpoints["nats"])
    return asyncio.run(create_org(settings, name))["api_key"]


@pytest.fixture(scope="session")
def platforms(tmp_path_factory):
    held = Platforms(tmp_path_factory)
    yield held
    held.stop()


@pytest.fixture(scope="module")
def platform(platforms: Platforms, request) -> dict:
    """The shared platform, seen as a fresh organization of its own for this module."""
    p = platforms.running()
    return _as_dict(p, _new_organization(p, request.module.__name__))


@pytest.fixture
def stoppable_platform(platforms: Platforms):
    """The shared platform, for a test that stops it (with the dev organization's key)."""
    p = platforms.running()
    yield _as_dict(p, p.key)
    platforms.stop()  # stopped by the test, or left half-stopped by a failure: the next user starts afresh


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    platforms = getattr(item, "funcargs", {}).get("platforms")
    yield
    if platforms is not None and (nextitem is None or not FIXTURES & set(getattr(nextitem, "fixturenames", ()))):
        platforms.stop()  # the next test on this process needs no platform
